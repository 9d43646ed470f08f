from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.audit import Access
from app.deps import GuardDep, SettingsDep
from app.http.paging import PagingDep
from app.schemas.common import PageOut
from app.schemas.events import DeadLetterOut, SubscriptionCreate, SubscriptionCreated, SubscriptionOut
from app.services.events import subscriptions as service
from app.services.events.subscriptions import dead_letter_out, subscription_out

router = APIRouter(tags=["webhooks"])

SCOPE = "webhooks:manage"


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated)
async def create_subscription(
    body: SubscriptionCreate, guard: GuardDep, settings: SettingsDep, response: Response
) -> SubscriptionCreated:
    await guard.require_system_scope(SCOPE, Access(action="create", resource_type="subscription"))
    sub, secret = await service.create_subscription(guard.session, guard.principal, body, settings)
    response.headers["Location"] = f"/api/v1/subscriptions/{sub.id}"
    return SubscriptionCreated(**subscription_out(sub).model_dump(), secret=secret)


@router.get("/subscriptions", response_model=list[SubscriptionOut])
async def list_subscriptions(guard: GuardDep) -> list[SubscriptionOut]:
    await guard.require_system_scope(SCOPE, Access(action="list", resource_type="subscription"))
    return [subscription_out(s) for s in await service.list_subscriptions(guard.session, guard.principal)]


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_subscription(subscription_id: uuid.UUID, guard: GuardDep) -> Response:
    await guard.require_system_scope(
        SCOPE, Access(action="delete", resource_type="subscription", resource_id=str(subscription_id))
    )
    await service.delete_subscription(guard.session, guard.principal, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/admin/dead-letters", response_model=PageOut[DeadLetterOut])
async def list_dead_letters(guard: GuardDep, page: PagingDep) -> PageOut[DeadLetterOut]:
    await guard.require_admin_somewhere(Access(action="list", resource_type="dead_letter"))
    rows, total = await service.dead_letters(guard.session, limit=page.limit, offset=page.offset)
    return PageOut(
        items=[dead_letter_out(m) for m in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        next=page.next_link(total),
    )


@router.post("/admin/dead-letters/{message_id}/replay", response_model=DeadLetterOut)
async def replay_dead_letter(
    message_id: uuid.UUID, guard: GuardDep, reactivate: bool = False
) -> DeadLetterOut:
    await guard.require_admin_somewhere(
        Access(action="update", resource_type="dead_letter", resource_id=str(message_id))
    )
    return dead_letter_out(await service.replay_dead_letter(guard.session, message_id, reactivate=reactivate))
