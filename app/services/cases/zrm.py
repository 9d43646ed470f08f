"""The anchors of the Zelfredzaamheid-Matrix (ZRM): what a score of 1 to 5 means per life domain.

Shown where scores are entered and read, so that two professionals score the same situation the
same way. Short paraphrases in Dutch of the ZRM's score descriptions; the full matrix and its
manual are published by the source named in SOURCE. Pure data, no client data.
"""

from __future__ import annotations

from app.models.enums import LifeDomain

SOURCE = "Zelfredzaamheid-Matrix (ZRM), GGD Amsterdam / Hogeschool van Amsterdam"

# The general meaning of each score, the same for every domain.
LEVELS: dict[int, str] = {
    1: "acute problematiek",
    2: "niet zelfredzaam",
    3: "beperkt zelfredzaam",
    4: "voldoende zelfredzaam",
    5: "volledig zelfredzaam",
}

DOMAIN_NAMES: dict[LifeDomain, str] = {
    LifeDomain.finances: "Financiën",
    LifeDomain.work_education: "Werk en opleiding",
    LifeDomain.time_use: "Tijdsbesteding",
    LifeDomain.housing: "Huisvesting",
    LifeDomain.domestic_relations: "Huiselijke relaties",
    LifeDomain.mental_health: "Geestelijke gezondheid",
    LifeDomain.physical_health: "Lichamelijke gezondheid",
    LifeDomain.substance_use: "Middelengebruik",
    LifeDomain.adl: "Basale ADL",
    LifeDomain.iadl: "Instrumentele ADL",
    LifeDomain.social_network: "Sociaal netwerk",
    LifeDomain.community_participation: "Maatschappelijke participatie",
    LifeDomain.justice: "Justitie",
}

# One short line per score (1..5) per domain.
ANCHORS: dict[LifeDomain, tuple[str, str, str, str, str]] = {
    LifeDomain.finances: (
        "Groeiende, complexe schulden.",
        "Geen inkomen of spontaan gedrag dat schulden maakt; schulden groeien.",
        "Inkomen is er, maar te laag of niet goed beheerd; schulden met een regeling.",
        "Genoeg inkomen voor de basis; eventuele schulden zijn in een regeling die loopt.",
        "Inkomen is voldoende en goed beheerd; geen schulden of zelf beheerd.",
    ),
    LifeDomain.work_education: (
        "Geen werk, opleiding of dagbesteding en geen uitkering; of onaangepast gedrag op het werk.",
        "Geen werk, opleiding of vrijwilligerswerk.",
        "Vrijwilligerswerk, dagbesteding of een opleiding, maar moeizaam of onregelmatig.",
        "Werk, opleiding of vrijwilligerswerk, met enige ondersteuning.",
        "Werk of opleiding naar wens en zonder ondersteuning.",
    ),
    LifeDomain.time_use: (
        "Geen ritme van dag en nacht; de dag heeft geen invulling.",
        "Nauwelijks invulling van de dag; onregelmatig ritme.",
        "Enige invulling van de dag, maar weinig plezierig of bevredigend.",
        "De dag is voor het grootste deel plezierig ingevuld; een regelmatig ritme.",
        "De dag is naar wens ingevuld; een gezond ritme.",
    ),
    LifeDomain.housing: (
        "Dakloos of in de nachtopvang.",
        "Onzekere of tijdelijke woonruimte; dreigende uitzetting.",
        "Woont in veilige maar tijdelijke of begeleide woonruimte, of de woning is niet passend.",
        "Vaste woonruimte, veilig en betaalbaar, met enige ondersteuning.",
        "Vaste, veilige en passende woonruimte zonder ondersteuning.",
    ),
    LifeDomain.domestic_relations: (
        "Huiselijk geweld of kindermishandeling; acute onveiligheid.",
        "Veel spanning en conflicten thuis; relaties zijn niet veilig.",
        "Er zijn problemen thuis, maar zonder geweld; hulp is nodig.",
        "Af en toe problemen thuis, die zelf of met lichte steun worden opgelost.",
        "Relaties thuis zijn goed en steunend, of er zijn geen huisgenoten.",
    ),
    LifeDomain.mental_health: (
        "Gevaar voor zichzelf of anderen; acute psychische nood.",
        "Ernstige psychische klachten zonder passende behandeling.",
        "Psychische klachten die het dagelijks leven beperken; in behandeling of moeizaam.",
        "Lichte psychische klachten, onder controle, eventueel met behandeling.",
        "Geen psychische klachten die het dagelijks leven raken.",
    ),
    LifeDomain.physical_health: (
        "Acute lichamelijke nood of ernstige ziekte zonder zorg.",
        "Lichamelijke klachten die het dagelijks leven ernstig beperken; geen passende zorg.",
        "Klachten die het leven beperken; zorg wordt maar deels gebruikt.",
        "Klachten zijn onder controle met passende zorg.",
        "Geen lichamelijke klachten die het dagelijks leven raken.",
    ),
    LifeDomain.substance_use: (
        "Gebruik met ernstige gevolgen voor gezondheid of veiligheid; acute zorg nodig.",
        "Gebruik of afhankelijkheid met grote problemen; geen behandeling.",
        "Gebruik met problemen thuis, op het werk of in de gezondheid; wel in behandeling.",
        "Gebruik zonder grote problemen, of stabiel in herstel met hulp.",
        "Geen gebruik, of gebruik zonder problemen.",
    ),
    LifeDomain.adl: (
        "Verwaarloosd; basale zorg (eten, wassen) ontbreekt en er is acuut gevaar.",
        "Kan basale zelfzorg niet zelf; hulp is nodig maar er niet.",
        "Kan basale zelfzorg deels zelf; hulp is nodig en er deels.",
        "Kan basale zelfzorg met hulp of hulpmiddelen.",
        "Kan basale zelfzorg helemaal zelf.",
    ),
    LifeDomain.iadl: (
        "Huishouden en administratie ontbreken; acute gevolgen (vervuiling, afsluiting).",
        "Kan huishouden, boodschappen of post niet zelf; hulp is er niet.",
        "Kan huishouden, boodschappen en post deels zelf; hulp is deels geregeld.",
        "Kan huishouden, boodschappen en post met hulp.",
        "Kan huishouden, boodschappen en post helemaal zelf.",
    ),
    LifeDomain.social_network: (
        "Ernstig sociaal isolement of alleen contacten die schaden.",
        "Weinig contact met anderen; geen steun in tijden van nood.",
        "Enig contact met familie of vrienden; beperkte steun.",
        "Voldoende contact met anderen, die steun geven als het nodig is.",
        "Een goed netwerk van familie en vrienden dat steunt.",
    ),
    LifeDomain.community_participation: (
        "Niet in staat om mee te doen; geen toegang tot voorzieningen.",
        "Doet niet mee in de buurt of de samenleving; weinig kennis van voorzieningen.",
        "Doet beperkt mee; weet de weg naar voorzieningen maar deels.",
        "Doet mee in de buurt of een vereniging; weet de weg naar voorzieningen.",
        "Doet volop mee in de samenleving naar eigen wens.",
    ),
    LifeDomain.justice: (
        "Nieuwe arrestaties of een detentie; acuut justitieel probleem.",
        "Veel contact met politie of justitie; lopende zaken zonder begeleiding.",
        "Af en toe contact met politie of justitie; lopende zaken met begeleiding.",
        "Geen nieuw contact met politie of justitie in het laatste jaar; oude zaken afgerond of geregeld.",
        "Geen contact met politie of justitie.",
    ),
}


def anchors() -> list[dict[str, object]]:
    """Per life domain, in the order of the ZRM: the Dutch name and the five score descriptions."""
    return [
        {
            "domain": domain.value,
            "name": DOMAIN_NAMES[domain],
            "scores": [
                {"score": score, "level": LEVELS[score], "description": ANCHORS[domain][score - 1]}
                for score in range(1, 6)
            ],
        }
        for domain in LifeDomain
    ]
