"""Personal data in source columns: the one list of column names twin drops on load.

GDPR: a twin holds no personal data by default. A column is dropped when its name, compared
without case, accents or punctuation (``"Téléphone"``, ``"TELEPHONE"`` and ``"telephone"``
are one name), is in :data:`PERSONAL_NAMES`; a family name (``nom``, ``name``…) only beside a
first name (:data:`FIRST_NAMES`), since alone it names streets, shops and places. Shapefile
names cut to 10 characters (``"proprietai"``) count as the name they begin. A column is never
dropped only because its name contains "id". What was dropped is written in the layer's
provenance (``twin info`` shows it); a loader keeps a column on purpose when it is mapped to a
canonical name. The list is documented in ``docs/loaders.md``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Names of columns that identify people or reach them (normalised by :func:`normalise_name`).
PERSONAL_NAMES = frozenset(
    {
        # names of people
        "prenom", "prenoms", "first_name", "firstname", "given_name", "surname", "last_name",
        "lastname", "full_name", "nom_prenom", "prenom_nom", "nom_naissance", "nom_de_naissance",
        "nom_usage", "nom_d_usage", "patronyme", "owner", "owner_name", "proprietaire",
        "nom_proprietaire", "locataire", "nom_locataire", "tenant", "tenant_name", "gerant",
        "nom_gerant", "exploitant", "nom_exploitant", "bailleur", "manager", "contact",
        "personne", "person",
        # contacts
        "telephone", "tel", "phone", "phone_number", "mobile", "portable", "fax", "email",
        "e_mail", "mail", "courriel", "adresse_mail", "adresse_email", "adresse_electronique",
        # postal addresses of people
        "adresse", "adresse_postale", "adresse_personnelle", "domicile", "home_address",
        # birth and identity numbers
        "date_naissance", "date_de_naissance", "naissance", "lieu_naissance",
        "lieu_de_naissance", "birth_date", "date_of_birth", "birthdate", "dob", "age",
        "nir", "num_secu", "numero_secu", "n_secu", "no_secu", "securite_sociale",
        "numero_securite_sociale",
        "n_securite_sociale", "no_securite_sociale", "ssn", "social_security_number",
        "iban", "rib", "bic", "carte_identite", "passport", "passeport",
    }
)  # fmt: skip
#: Name prefixes of contact columns (OSM ``contact:phone``, ``contact:email``…).
PERSONAL_PREFIXES = ("contact_",)
#: First-name columns: beside one of them, :data:`FAMILY_NAMES` are personal too.
FIRST_NAMES = frozenset({"prenom", "prenoms", "first_name", "firstname", "given_name"})
#: Family names, personal only beside a first name (alone they name streets, shops, places).
FAMILY_NAMES = frozenset({"nom", "name", "last_name", "lastname", "surname"})
#: Field names are cut to 10 characters in a shapefile's table (dBASE): ``proprietai``.
DBF_NAME_LENGTH = 10


def normalise_name(text: str) -> str:
    """Header to a bare ASCII key: ``"Date relevé"`` → ``"date_releve"``."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", "_", s.lower()).strip("_")


def _listed(key: str, names: frozenset[str]) -> bool:
    if key in names:
        return True
    return len(key) == DBF_NAME_LENGTH and any(n.startswith(key) for n in names)


def personal_columns(columns: Iterable[object], keep: Iterable[str] = ()) -> list[str]:
    """The columns among ``columns`` that hold personal data (see the module's rules).

    Parameters
    ----------
    columns : iterable
        Column names.
    keep : iterable of str
        Names kept on purpose (e.g. mapped to a canonical name by the loader).

    Returns
    -------
    list of str
        The personal columns, in their order.
    """
    names = [str(c) for c in columns if str(c) not in set(keep) and str(c) != "geometry"]
    keys = {c: normalise_name(c) for c in names}
    with_first = any(_listed(k, FIRST_NAMES) for k in keys.values())
    return [
        c
        for c, k in keys.items()
        if _listed(k, PERSONAL_NAMES)
        or k.startswith(PERSONAL_PREFIXES)
        or (with_first and _listed(k, FAMILY_NAMES))
    ]
