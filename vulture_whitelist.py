"""Names that the dead-code check (vulture, `make test`) cannot see being used: each is called by
a framework or by the tests by design. Add a name here only with the reason beside it."""

from app.auth.dev_idp import DevKeyStore
from app.clock import Clock
from app.main import create_app
from app.services.agreements.readability import Readability, measure, template_text
from app.services.privacy.exports import _Pdf
from app.services.privacy.verify import ChainReport

create_app  # uvicorn's factory (app.cli `serve`) and the tests
Clock.freeze  # the tests travel in time
Clock.travel
Clock.reset
DevKeyStore.drop_old  # key-rotation tests retire a development key
ChainReport.heads  # part of the verification report (the API returns its __dict__)
_Pdf.footer  # fpdf calls it on every page
NOT_CLIENT_DATA_TABLES  # tests/test_subject_access_complete.py: every client-data table is exported or named here
client_data_tables

_.exc_text  # logging.LogRecord: cleared so that a formatted traceback is redacted again
_.superseded_at  # model columns, assigned by the services
_.withdrawn_at
_.added_by_chair  # agenda_item: set by the chair's add, read by the draft's statement in SQL
_.decided_by_subject  # identity_change: who approved or rejected (shown in IdentityChangeOut)
_.decided_by_id
_.answered_by_id  # consultation: who answered (kept with the answer, on record)

_.disabled  # logging.Logger: app.logs switches uvicorn's access log off
_.justification_hidden  # read by the case page template (agreements/case_section.html)
_.next_phases  # read by the case page template (case_changes.html)
_.organisation_names
_.replied_by_id  # aftercare report: who answered (kept with the answer, on record)
_.reports  # read by the case page template (case_aftercare.html)
_.text_x  # app/web/charts.py Bar and Chart: read by the outcomes page template (outcomes.html)
_.text_y
_.values_shown
_.colour
