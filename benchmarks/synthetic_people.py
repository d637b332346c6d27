"""Synthetic people for the registration benchmark: realistic names, realistic block sizes.

Duplicate search cost depends on how many people share a match key, so the names follow the shapes of
the corridor's caseloads rather than a uniform spread: Central American, Venezuelan and Mexican names
(two surnames, a quarter of given names compound), Haitian names, and Arabic names (Sudan, Syria,
Yemen, Morocco…) written half in Arabic script and half in one of several Latin transliterations.
Within each list the frequency falls with rank like Zipf's law (`s` below), so María, José, Mohamed,
Jean, Hernández or Joseph make large blocks and the tail makes small ones, as in real registers.
Birth years run from 1950 to 2024, mostly young adults, with children and a few older people.

Everything here is deterministic for a seed, and pure Python: worker processes build rows in parallel.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

# --- Names, most frequent first ------------------------------------------------------------------------

LATIN_MALE = [
    "José",
    "Juan",
    "Luis",
    "Carlos",
    "Jorge",
    "Miguel",
    "Pedro",
    "Jesús",
    "Francisco",
    "Antonio",
    "Manuel",
    "David",
    "Daniel",
    "Mario",
    "Oscar",
    "Víctor",
    "Roberto",
    "Fernando",
    "Ricardo",
    "Javier",
    "Alejandro",
    "Eduardo",
    "Rafael",
    "Sergio",
    "Raúl",
    "Julio",
    "Marvin",
    "Kevin",
    "Edwin",
    "Wilmer",
    "Nelson",
    "Santos",
    "Elmer",
    "Henry",
    "Erick",
    "Cristian",
    "Jonathan",
    "Brayan",
    "Anderson",
    "Yeison",
    "Ángel",
    "Andrés",
    "Diego",
    "Alexander",
    "Fredy",
    "Walter",
    "Hugo",
    "Ramón",
    "Rubén",
    "Alberto",
    "Gustavo",
    "Samuel",
    "Héctor",
    "Enrique",
    "Arturo",
    "Marco",
    "Pablo",
    "Gabriel",
    "Emilio",
    "Josué",
    "Moisés",
    "Isaac",
    "Abraham",
    "Wilson",
    "Milton",
    "Orlando",
    "Darwin",
    "Kelvin",
    "Jefferson",
    "Dilan",
    "Matías",
    "Santiago",
    "Sebastián",
    "Tomás",
    "Rigoberto",
    "Efraín",
    "Gerson",
    "Selvin",
    "Byron",
]
LATIN_FEMALE = [
    "María",
    "Ana",
    "Rosa",
    "Carmen",
    "Gloria",
    "Sandra",
    "Martha",
    "Patricia",
    "Claudia",
    "Karla",
    "Wendy",
    "Yesenia",
    "Dayana",
    "Yolanda",
    "Sofía",
    "Valentina",
    "Camila",
    "Daniela",
    "Gabriela",
    "Andrea",
    "Paola",
    "Fernanda",
    "Lucía",
    "Elena",
    "Isabel",
    "Teresa",
    "Leticia",
    "Juana",
    "Guadalupe",
    "Alejandra",
    "Mariela",
    "Yessica",
    "Heidy",
    "Jennifer",
    "Katherine",
    "Nicole",
    "Esther",
    "Marta",
    "Dulce",
    "Blanca",
    "Silvia",
    "Lorena",
    "Verónica",
    "Adriana",
    "Mónica",
    "Natalia",
    "Paula",
    "Luz",
    "Marisol",
    "Reina",
    "Xiomara",
    "Dania",
    "Lesly",
    "Keila",
    "Yaritza",
    "Milagros",
    "Norma",
    "Olga",
    "Irma",
    "Sonia",
    "Delmy",
    "Evelyn",
    "Ingrid",
    "Liliana",
    "Mayra",
    "Nancy",
    "Vilma",
]
LATIN_SURNAMES = [
    "Hernández",
    "López",
    "García",
    "Martínez",
    "González",
    "Rodríguez",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Flores",
    "Cruz",
    "Gómez",
    "Morales",
    "Reyes",
    "Díaz",
    "Torres",
    "Vásquez",
    "Castillo",
    "Ortiz",
    "Mejía",
    "Rivera",
    "Romero",
    "Jiménez",
    "Ruiz",
    "Aguilar",
    "Mendoza",
    "Álvarez",
    "Chávez",
    "Méndez",
    "Moreno",
    "Herrera",
    "Medina",
    "Castro",
    "Vargas",
    "Guzmán",
    "Ramos",
    "Juárez",
    "Domínguez",
    "Contreras",
    "Estrada",
    "Orellana",
    "Alvarado",
    "Figueroa",
    "Velásquez",
    "Rojas",
    "Soto",
    "Salazar",
    "Cabrera",
    "Guerrero",
    "Núñez",
    "Maldonado",
    "Rosales",
    "Zelaya",
    "Escobar",
    "Cardona",
    "Portillo",
    "Paz",
    "Bonilla",
    "Argueta",
    "Cárdenas",
    "Fuentes",
    "Villatoro",
    "Monterroso",
    "Barrios",
    "Lara",
    "Ávila",
    "Ríos",
    "Campos",
    "Santos",
    "Valle",
    "Molina",
    "Pineda",
    "Navarro",
    "Acosta",
    "Delgado",
    "Sandoval",
    "Solís",
    "Espinoza",
    "Ayala",
    "Carrillo",
    "Ponce",
    "Marroquín",
    "Quintanilla",
    "Cáceres",
    "Mata",
    "Lemus",
    "Osorio",
    "Sosa",
    "Suazo",
    "Amaya",
    "Duarte",
    "Palacios",
    "Benítez",
    "Avendaño",
    "Tobar",
    "Urbina",
    "Zavala",
    "Calderón",
    "Carranza",
    "Córdova",
    "Galindo",
    "Gálvez",
    "Ibarra",
    "Lagos",
    "Machado",
    "Montoya",
    "Nájera",
    "Ochoa",
    "Padilla",
    "Quiroz",
    "Sierra",
    "Trejo",
    "Umaña",
    "Vega",
    "Villeda",
    "Zúñiga",
    "Aguirre",
    "Barahona",
    "Cerrato",
    "Chinchilla",
    "Funes",
    "Godoy",
    "Hidalgo",
    "Izaguirre",
    "Leiva",
    "Matamoros",
    "Murillo",
    "Oliva",
    "Pacheco",
    "Pereira",
    "Raudales",
    "Sabillón",
    "Tercero",
    "Valladares",
    "Varela",
    "Xicará",
    "Yax",
    "Tzul",
    "Coj",
    "Ixcot",
    "Pop",
    "Caal",
    "Choc",
]
LATIN_NATIONALITIES = (
    ("HN", 30),
    ("GT", 22),
    ("SV", 12),
    ("VE", 14),
    ("MX", 8),
    ("NI", 6),
    ("CU", 5),
    ("CO", 3),
)

HAITIAN_MALE = [
    "Jean",
    "Pierre",
    "Joseph",
    "Jacques",
    "Louis",
    "Michel",
    "Claude",
    "Wilson",
    "Frantz",
    "Jean-Claude",
    "Jean-Pierre",
    "Emmanuel",
    "Fritz",
    "Samuel",
    "Daniel",
    "Marc",
    "Paul",
    "Patrick",
    "Reginald",
    "Junior",
    "Stanley",
    "Evens",
    "Wisly",
    "Jameson",
    "Ricot",
    "Roosevelt",
    "Wilner",
    "Jocelyn",
    "Fednel",
    "Dieuseul",
    "Kervens",
    "Berthony",
    "Jhonson",
    "Woodley",
    "Vladimir",
    "Peterson",
    "Mackenson",
    "Schneider",
    "Ernso",
]
HAITIAN_FEMALE = [
    "Marie",
    "Rose",
    "Nadège",
    "Guerline",
    "Mirlande",
    "Fabiola",
    "Lovely",
    "Judith",
    "Stéphanie",
    "Sandra",
    "Nathalie",
    "Esther",
    "Roseline",
    "Marie-Claire",
    "Marie-Ange",
    "Ketly",
    "Fabienne",
    "Widline",
    "Jessica",
    "Kettia",
    "Dieula",
    "Myrlande",
    "Rose-Marie",
    "Nicole",
    "Carline",
    "Darline",
    "Phanie",
    "Manoucheka",
    "Islande",
    "Bethsaida",
    "Edline",
    "Loudie",
    "Mireille",
    "Sherline",
    "Tamara",
]
HAITIAN_SURNAMES = [
    "Joseph",
    "Jean",
    "Pierre",
    "Louis",
    "Charles",
    "Jean-Baptiste",
    "Saint-Louis",
    "François",
    "Etienne",
    "Alexis",
    "Augustin",
    "Paul",
    "Michel",
    "Désir",
    "Noël",
    "Toussaint",
    "Dorval",
    "Baptiste",
    "Jules",
    "Philippe",
    "Lafleur",
    "Thermidor",
    "Saintil",
    "Jeune",
    "Fils-Aimé",
    "Dorvil",
    "Célestin",
    "Estimé",
    "Cadet",
    "Petit-Frère",
    "Julien",
    "Simon",
    "Laguerre",
    "Georges",
    "Antoine",
    "Guerrier",
    "Moïse",
    "Valcin",
    "Exantus",
    "Métellus",
    "Dieujuste",
    "Bien-Aimé",
    "Sylvain",
    "Desrosiers",
    "Beauvais",
    "Casimir",
    "Florestal",
    "Orélien",
    "Clergé",
    "Destin",
]

# Arabic names: the Arabic spelling and the Latin transliterations met at registration desks.
ARABIC_MALE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("محمد", ("Mohamed", "Mohammed", "Muhammad", "Mohammad", "Mohamad")),
    ("أحمد", ("Ahmed", "Ahmad")),
    ("علي", ("Ali",)),
    ("عمر", ("Omar", "Umar")),
    ("محمود", ("Mahmoud", "Mahmud")),
    ("مصطفى", ("Mustafa", "Moustafa")),
    ("عبدالله", ("Abdullah", "Abdallah")),
    ("إبراهيم", ("Ibrahim", "Ebrahim")),
    ("حسن", ("Hassan", "Hasan")),
    ("حسين", ("Hussein", "Hussain", "Hosein")),
    ("خالد", ("Khaled", "Khalid")),
    ("يوسف", ("Youssef", "Yousif", "Yusuf")),
    ("عبدالرحمن", ("Abdelrahman", "Abdulrahman")),
    ("عثمان", ("Osman", "Othman")),
    ("آدم", ("Adam",)),
    ("صلاح", ("Salah",)),
    ("طارق", ("Tarek", "Tariq")),
    ("وليد", ("Walid", "Waleed")),
    ("سامي", ("Sami", "Samy")),
    ("كريم", ("Karim", "Kareem")),
    ("بلال", ("Bilal",)),
    ("حمزة", ("Hamza",)),
    ("أمير", ("Amir", "Ameer")),
    ("ناصر", ("Nasser", "Naser")),
    ("جمال", ("Jamal", "Gamal")),
    ("رامي", ("Rami",)),
    ("فادي", ("Fadi",)),
    ("ماجد", ("Majed", "Majid")),
    ("أنس", ("Anas",)),
    ("عيسى", ("Issa", "Eisa")),
    ("موسى", ("Musa", "Mousa")),
    ("سليمان", ("Suleiman", "Sulaiman")),
    ("إدريس", ("Idris", "Idriss")),
    ("حامد", ("Hamid", "Hamed")),
    ("سعيد", ("Saeed", "Said")),
    ("فيصل", ("Faisal", "Faysal")),
    ("أيمن", ("Ayman",)),
    ("هشام", ("Hisham", "Hicham")),
    ("ياسر", ("Yasser", "Yasir")),
    ("زكريا", ("Zakaria", "Zakariya")),
)
ARABIC_FEMALE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("فاطمة", ("Fatima", "Fatma", "Fatimah")),
    ("عائشة", ("Aisha", "Aicha", "Aysha")),
    ("مريم", ("Mariam", "Maryam")),
    ("آمنة", ("Amina", "Amna")),
    ("خديجة", ("Khadija", "Khadidja")),
    ("زينب", ("Zainab", "Zeinab")),
    ("نور", ("Nour", "Noor")),
    ("سارة", ("Sara", "Sarah")),
    ("ليلى", ("Layla", "Leila")),
    ("رانيا", ("Rania",)),
    ("هدى", ("Huda", "Houda")),
    ("أسماء", ("Asma", "Asmaa")),
    ("سلمى", ("Salma",)),
    ("ياسمين", ("Yasmin", "Yasmine")),
    ("ريم", ("Reem", "Rim")),
    ("سميرة", ("Samira", "Sameera")),
    ("حليمة", ("Halima",)),
    ("حواء", ("Hawa",)),
    ("صفية", ("Safiya", "Safia")),
    ("رحمة", ("Rahma",)),
    ("أمل", ("Amal",)),
    ("إيمان", ("Iman", "Eman")),
    ("سعاد", ("Suad", "Souad")),
    ("هبة", ("Hiba", "Heba")),
    ("رشا", ("Rasha",)),
    ("لينا", ("Lina",)),
    ("مها", ("Maha",)),
    ("سمية", ("Sumaya", "Soumaya")),
    ("ملاك", ("Malak",)),
    ("غادة", ("Ghada",)),
)
ARABIC_FAMILY: tuple[tuple[str, tuple[str, ...]], ...] = (
    *ARABIC_MALE[:16],
    ("خليل", ("Khalil",)),
    ("حداد", ("Haddad",)),
    ("إسماعيل", ("Ismail", "Ismael")),
    ("صالح", ("Saleh", "Salih")),
    ("عباس", ("Abbas",)),
    ("منصور", ("Mansour", "Mansur")),
    ("درويش", ("Darwish",)),
    ("قاسم", ("Qasim", "Kassem")),
    ("رشيد", ("Rashid", "Rachid")),
    ("نجار", ("Najjar",)),
    ("خوري", ("Khoury",)),
    ("حمدان", ("Hamdan",)),
    *ARABIC_MALE[16:],
)
ARABIC_NATIONALITIES = (("SD", 35), ("SY", 20), ("YE", 15), ("EG", 10), ("MA", 8), ("DZ", 6), ("IQ", 6))

# Arabic spelling ↔ Latin spellings, to write an earlier person's name in the other script.
TO_LATIN: dict[str, tuple[str, ...]] = dict((*ARABIC_MALE, *ARABIC_FEMALE, *ARABIC_FAMILY))
TO_ARABIC: dict[str, str] = {
    spelling: arabic for arabic, latin in (*ARABIC_MALE, *ARABIC_FEMALE, *ARABIC_FAMILY) for spelling in latin
}

GROUPS = (("latin", 68), ("haitian", 14), ("arabic_script", 9), ("arabic_latin", 9))
ORGANISATION_SHARES = (0.55, 0.20, 0.12, 0.08, 0.05)
SITES_PER_ORGANISATION = 3


class Zipf:
    """Pick from a list ranked by frequency: weight of rank r is 1 / r**s."""

    def __init__(self, items: Sequence[object], s: float) -> None:
        self.items = list(items)
        self.cumulative = list(itertools.accumulate(1 / rank**s for rank in range(1, len(items) + 1)))

    def pick(self, chooser: random.Random) -> object:
        return self.items[bisect.bisect(self.cumulative, chooser.random() * self.cumulative[-1])]

    def share_of_first(self) -> float:
        return self.cumulative[0] / self.cumulative[-1]


class Weighted(Zipf):
    def __init__(self, pairs: Sequence[tuple[object, float]]) -> None:
        self.items = [item for item, _weight in pairs]
        self.cumulative = list(itertools.accumulate(weight for _item, weight in pairs))


PICK = {
    "latin_male": Zipf(LATIN_MALE, 0.9),
    "latin_female": Zipf(LATIN_FEMALE, 0.9),
    "latin_surname": Zipf(LATIN_SURNAMES, 0.75),
    "haitian_male": Zipf(HAITIAN_MALE, 0.9),
    "haitian_female": Zipf(HAITIAN_FEMALE, 0.9),
    "haitian_surname": Zipf(HAITIAN_SURNAMES, 0.8),
    "arabic_male": Zipf(ARABIC_MALE, 1.1),
    "arabic_female": Zipf(ARABIC_FEMALE, 0.95),
    "arabic_family": Zipf(ARABIC_FAMILY, 0.9),
    "group": Weighted(GROUPS),
    "latin_nationality": Weighted(LATIN_NATIONALITIES),
    "arabic_nationality": Weighted(ARABIC_NATIONALITIES),
}
# Ages at registration: children, mostly young adults, a few older people (birth years 1950-2024).
AGES = Weighted([((2, 17), 22), ((18, 35), 50), ((36, 59), 25), ((60, 76), 3)])
THIS_YEAR = 2026


@dataclass
class SyntheticPerson:
    group: str
    given_name: str
    family_name: str
    sex: str
    birth_year: int
    date_of_birth: datetime.date | None
    age: int
    nationality: str
    phone: str


def _arabic(entry: object, chooser: random.Random, script: bool) -> str:
    arabic, latin = cast(tuple[str, tuple[str, ...]], entry)
    return str(arabic) if script else str(chooser.choice(latin))


def person(chooser: random.Random, *, phone_share: float = 0.35) -> SyntheticPerson:
    """One synthetic person, drawn from the distributions above."""
    group = str(PICK["group"].pick(chooser))
    roll = chooser.random()
    sex = "male" if roll < 0.55 else "female" if roll < 0.99 else chooser.choice(["other", "undisclosed"])
    kind = "female" if sex == "female" else "male"
    if group == "latin":
        given = str(PICK[f"latin_{kind}"].pick(chooser))
        if chooser.random() < 0.25:
            given = f"{given} {PICK[f'latin_{kind}'].pick(chooser)}"
        surnames = [
            str(PICK["latin_surname"].pick(chooser)) for _ in range(2 if chooser.random() < 0.9 else 1)
        ]
        family = " ".join(surnames)
        nationality = str(PICK["latin_nationality"].pick(chooser))
    elif group == "haitian":
        given = str(PICK[f"haitian_{kind}"].pick(chooser))
        family = str(PICK["haitian_surname"].pick(chooser))
        nationality = "HT"
    else:
        script = group == "arabic_script"
        given = _arabic(PICK[f"arabic_{kind}"].pick(chooser), chooser, script)
        parts = [_arabic(PICK["arabic_family"].pick(chooser), chooser, script)]
        if chooser.random() < 0.5:
            parts.append(_arabic(PICK["arabic_family"].pick(chooser), chooser, script))
        family = " ".join(parts)
        nationality = str(PICK["arabic_nationality"].pick(chooser))
    low, high = cast(tuple[int, int], AGES.pick(chooser))
    age = chooser.randint(low, high)
    birth_year = min(max(THIS_YEAR - age - (chooser.random() < 0.5), 1950), 2024)
    date_of_birth = None
    if chooser.random() < 0.55:
        date_of_birth = datetime.date(birth_year, 1, 1) + datetime.timedelta(days=chooser.randrange(365))
    phone = ""
    if chooser.random() < phone_share:
        phone = f"+52 962 {chooser.randrange(10**7):07d}"
    return SyntheticPerson(
        group=group,
        given_name=given,
        family_name=family,
        sex=sex,
        birth_year=birth_year,
        date_of_birth=date_of_birth,
        age=THIS_YEAR - birth_year,
        nationality=nationality,
        phone=phone,
    )


def other_script(name: str, chooser: random.Random) -> str | None:
    """The same Arabic name in the other script ('محمد احمد' → 'Mohammed Ahmad'), None if not Arabic."""
    out = []
    for token in name.split():
        if token in TO_LATIN:
            out.append(chooser.choice(TO_LATIN[token]))
        elif token in TO_ARABIC:
            out.append(TO_ARABIC[token])
        else:
            return None
    return " ".join(out)


_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_SPACE = len(_ALPHABET) ** 8
_STRIDE = 400_000_000_007  # coprime with 30**8: a bijection, so references never collide


def reference(number: int) -> str:
    """A reference in the app's format (VT-XXXX-XXXX), unique for every number below 30**8."""
    value = (number * _STRIDE) % _SPACE
    chars = []
    for _ in range(8):
        value, digit = divmod(value, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return f"VT-{''.join(chars[:4])}-{''.join(chars[4:])}"
