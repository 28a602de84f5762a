"""The project record as the subsidy contract and the municipality's announcement give it.

Seeded once (a data migration, and ``project_current`` when the row is missing); afterwards the
coordinator corrects it on the project page. Functions take the model classes so the migration
can pass its historical models.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

PROJECT = {
    "number": "LLI-457",
    "acronym": "Safe community",
    "title_en": "Improvement of living conditions in deprived cross border region by promotion of safe and "
                "responsible communities",
    "title_lt": "Gyvenimo kokybės gerinimas nepasiturinčiame pasienio regione, skatinant bendruomenių saugumą "
                "ir atsakingumą",
    "programme_en": "Interreg V-A Latvia–Lithuania Cross Border Cooperation Programme 2014–2020",
    "programme_lt": "2014–2020 m. Interreg V-A Latvijos ir Lietuvos bendradarbiavimo per sieną programa",
    "fund_en": "European Regional Development Fund (ERDF)",
    "fund_lt": "Europos regioninės plėtros fondas (ERPF)",
    "programme_site": "www.latlit.eu",
    "duration_months": 18,
    "total_budget": Decimal("232097.84"),
    "erdf": Decimal("197283.16"),
    "contact_name": "Jurga Bagamolovienė",
    "contact_phone": "8 618 25832",
    "contact_email": "jurga.bagamoloviene@birzai.lt",
    "disclaimer_lt": "Ši informacija parengta naudojant Europos Sąjungos finansinę paramą. Už šios informacijos "
                     "turinį atsako Biržų rajono savivaldybės administracija. Jokiomis aplinkybėmis negali būti "
                     "laikoma, kad ji atspindi Europos Sąjungos nuomonę.",
    "disclaimer_en": "This information has been produced with the financial assistance of the European Union. "
                     "The contents of this information are the sole responsibility of Biržai district "
                     "municipality administration and can under no circumstances be regarded as reflecting "
                     "the position of the European Union.",
}

PARTNERS = [
    {"role": "lead", "name_lt": "Biržų rajono savivaldybės administracija",
     "name_en": "Biržai district municipality administration", "country": "LT",
     "budget": Decimal("114013.88"), "erdf": Decimal("96911.79"), "own_contribution": Decimal("17102.09"),
     "note": "", "order": 1},
    # Only the project's totals and Biržai's share are published; Aizkraukle's share is their difference.
    {"role": "partner", "name_lt": "Aizkrauklės savivaldybė", "name_en": "Aizkraukle municipality",
     "country": "LV", "budget": Decimal("118083.96"), "erdf": Decimal("100371.37"),
     "own_contribution": Decimal("17712.59"),
     "note": "Apskaičiuota: projekto sumos atėmus Biržų dalį (skelbiamos tik jos); patikrinkite pagal "
             "subsidijos sutartį.",
     "order": 2},
]

INDICATORS = [
    {"code": "O1", "name_lt": "Įrengtos vaizdo stebėjimo kameros", "name_en": "Video surveillance cameras installed",
     "unit_lt": "vnt.", "unit_en": "cameras", "target": Decimal(24), "source": "cameras", "order": 1},
    {"code": "O2", "name_lt": "Seniūnijos, kuriose įrengtos kameros", "name_en": "Elderships covered by cameras",
     "unit_lt": "seniūnijos", "unit_en": "elderships", "target": Decimal(7), "source": "elderships", "order": 2},
    {"code": "O3", "name_lt": "Bendruomenių atstovų susitikimai", "name_en": "Community meetings",
     "unit_lt": "susitikimai", "unit_en": "meetings", "target": None, "source": "meetings", "order": 3},
    {"code": "O4", "name_lt": "Gerosios patirties mainai su Aizkraukle",
     "name_en": "Good-practice exchanges with Aizkraukle", "unit_lt": "mainai", "unit_en": "exchanges",
     "target": None, "source": "exchanges", "order": 4},
    {"code": "O5", "name_lt": "Pasiekti žmonės", "name_en": "People reached", "unit_lt": "asmenys",
     "unit_en": "people", "target": None, "source": "participants", "order": 5},
]


def project_seed(project_model: Any, partner_model: Any, indicator_model: Any) -> Any:
    """Create the record when there is none (idempotent: an existing record is never overwritten)."""
    project = project_model.objects.order_by("pk").first()
    if project is not None:
        return project
    project = project_model.objects.create(**PROJECT)
    for partner in PARTNERS:
        partner_model.objects.create(project=project, **partner)
    for indicator in INDICATORS:
        indicator_model.objects.get_or_create(code=indicator["code"], defaults=indicator)
    return project
