"""Vocabulary for the demo event: plausible organisations, people and offers per cluster.

Plain data only; ``clockevents/demo.py`` draws from it with a seeded ``random.Random``.
"""

from __future__ import annotations

DEMO_SLUG = "clock-demo"
DEMO_TITLE = "CLOCK cross-cluster matchmaking day"
DEMO_DESCRIPTION = (
    "Seven Tuscan technology districts open their doors to each other and to partners across Europe: "
    "companies, research labs, investors and public bodies meet one to one to start projects, "
    "supply deals and investments.\n\n"
    "Publish what you offer and what you seek, browse the directory, ask for meetings, and the "
    "organisers build everyone's agenda. Meetings last twenty minutes in virtual rooms."
)

# cluster -> (name stems, name endings, sectors, keywords)
CLUSTERS: dict[str, dict[str, list[str]]] = {
    "Advanced Materials": {
        "stems": [
            "Nanoforma",
            "Grafene",
            "Polimera",
            "Ceramtek",
            "Compositi",
            "Vetrolab",
            "Metallica",
            "Coatex",
        ],
        "endings": ["Materials", "Lab", "Tech", "Advanced Coatings", "Composites", "Surface Engineering"],
        "sectors": ["advanced materials", "chemistry", "coatings", "composites", "nanotechnology"],
        "keywords": [
            "graphene",
            "antiviral coatings",
            "bio-based polymers",
            "recycled carbon fibre",
            "ceramic membranes",
            "smart textiles",
            "thin films",
            "corrosion protection",
            "3D printing powders",
            "nanoparticles",
        ],
    },
    "ICT & Railway": {
        "stems": [
            "Binario",
            "Railnet",
            "Segnale",
            "Datatreno",
            "Ferrotech",
            "Cybertrack",
            "Logica",
            "Sinapsi",
        ],
        "endings": ["Systems", "Digital", "Rail Solutions", "Software", "Engineering", "Networks"],
        "sectors": ["railway", "ICT", "cybersecurity", "IoT", "transport"],
        "keywords": [
            "predictive maintenance",
            "ERTMS",
            "digital twin",
            "cybersecurity",
            "edge computing",
            "passenger information",
            "computer vision",
            "5G",
            "asset management",
            "machine learning",
        ],
    },
    "Nautical": {
        "stems": [
            "Darsena",
            "Velamare",
            "Scafo",
            "Navalia",
            "Portofino",
            "Maestrale",
            "Ormeggio",
            "Blu Marine",
        ],
        "endings": ["Yachts", "Marine Systems", "Shipyard", "Boat Interiors", "Naval Design", "Nautica"],
        "sectors": ["nautical", "shipbuilding", "blue economy", "marine equipment"],
        "keywords": [
            "yacht refit",
            "hybrid propulsion",
            "antifouling",
            "marine interiors",
            "hull design",
            "onboard comfort",
            "superyacht",
            "port logistics",
            "marine electronics",
            "lightweight decks",
        ],
    },
    "Stone": {
        "stems": [
            "Marmi",
            "Apuana",
            "Travertino",
            "Lapis",
            "Pietra Serena",
            "Cava Nuova",
            "Statuario",
            "Calacatta",
        ],
        "endings": ["Stone", "Marble Works", "Quarries", "Stone Design", "Lavorazioni", "Surfaces"],
        "sectors": ["natural stone", "construction", "design", "mining"],
        "keywords": [
            "marble slabs",
            "waterjet cutting",
            "stone recycling",
            "quarry automation",
            "sustainable extraction",
            "ventilated facades",
            "stone furniture",
            "robotic sculpting",
            "slurry recovery",
            "luxury surfaces",
        ],
    },
    "Fashion": {
        "stems": ["Filatura", "Pellami", "Tessuti", "Sartoria", "Lanificio", "Conceria", "Moda", "Ricamo"],
        "endings": ["Fashion", "Textiles", "Leather", "Atelier", "Knitwear", "Lab"],
        "sectors": ["fashion", "textiles", "leather", "luxury"],
        "keywords": [
            "recycled wool",
            "traceability",
            "digital product passport",
            "vegetable tanning",
            "circular fashion",
            "smart textiles",
            "low-impact dyeing",
            "made to measure",
            "3D garment design",
            "upcycling",
        ],
    },
    "Interiors & Design": {
        "stems": ["Casa", "Arredo", "Legnami", "Luce", "Forma", "Salotto", "Abitare", "Vetri"],
        "endings": ["Design", "Interiors", "Furniture", "Lighting", "Contract", "Studio"],
        "sectors": ["furniture", "interior design", "lighting", "contract"],
        "keywords": [
            "contract furniture",
            "acoustic panels",
            "circular design",
            "smart lighting",
            "reclaimed wood",
            "hospitality interiors",
            "modular furniture",
            "upholstery",
            "biophilic design",
            "eco-materials",
        ],
    },
    "Smart City": {
        "stems": ["Urbana", "Civitas", "Metropoli", "Smartgrid", "Mobilis", "Aria", "Sensoria", "Agora"],
        "endings": ["Smart City", "Energy", "Mobility", "Urban Data", "Sensors", "Technologies"],
        "sectors": ["smart city", "energy", "mobility", "environment", "public services"],
        "keywords": [
            "air quality sensors",
            "energy communities",
            "smart parking",
            "urban data platform",
            "public lighting",
            "waste management",
            "e-mobility",
            "flood monitoring",
            "citizen apps",
            "building retrofit",
        ],
    },
}

# Other participant types: name patterns with {city} and {topic}.
RESEARCH_NAMES = [
    "University of {city} - Department of {topic}",
    "CNR Institute for {topic}",
    "{city} Polytechnic - {topic} Lab",
    "Sant'Anna School - {topic} Institute",
    "{topic} Research Centre {city}",
]
FINANCE_NAMES = [
    "{city} Ventures",
    "Tuscany Growth Capital",
    "{topic} Impact Fund",
    "Banca di {city} - Innovation Desk",
    "Apennine Business Angels",
    "{city} Seed Partners",
]
PUBLIC_BODY_NAMES = [
    "Comune di {city}",
    "Regional Innovation Agency of {city}",
    "Port Authority of {city}",
    "{city} Chamber of Commerce",
    "Metropolitan City of {city}",
]
OTHER_NAMES = [
    "{topic} Association {city}",
    "{city} Innovation Hub",
    "{topic} Consortium",
    "{city} Technology Transfer Office",
]
COMPANY_FORMS = {
    "IT": "S.r.l.",
    "FR": "SAS",
    "ES": "S.L.",
    "DE": "GmbH",
    "PT": "Lda",
    "NL": "B.V.",
    "GR": "S.A.",
}

# Country weights: mostly Italian, as at a Tuscan event with European guests.
COUNTRIES: list[tuple[str, int]] = [
    ("IT", 70), ("FR", 6), ("ES", 6), ("DE", 5), ("PT", 4), ("NL", 3), ("GR", 3), ("BE", 1), ("AT", 1), ("US", 1),
]  # fmt: skip
CITIES: dict[str, list[str]] = {
    "IT": [
        "Pisa",
        "Florence",
        "Prato",
        "Livorno",
        "Lucca",
        "Carrara",
        "Siena",
        "Arezzo",
        "Viareggio",
        "Massa",
    ],
    "FR": ["Lyon", "Toulouse", "Marseille", "Nantes"],
    "ES": ["Barcelona", "Valencia", "Bilbao", "Seville"],
    "DE": ["Munich", "Stuttgart", "Hamburg", "Dresden"],
    "PT": ["Lisbon", "Porto", "Aveiro"],
    "NL": ["Rotterdam", "Eindhoven", "Delft"],
    "GR": ["Athens", "Thessaloniki", "Patras"],
    "BE": ["Ghent", "Leuven"],
    "AT": ["Graz", "Linz"],
    "US": ["Boston", "New York"],
}
LANGUAGES: dict[str, list[str]] = {
    "IT": ["it", "en"], "FR": ["fr", "en"], "ES": ["es", "en"], "DE": ["de", "en"], "PT": ["pt", "en"],
    "NL": ["nl", "en"], "GR": ["el", "en"], "BE": ["nl", "fr", "en"], "AT": ["de", "en"], "US": ["en"],
}  # fmt: skip
TIMEZONES: dict[str, str] = {
    "IT": "Europe/Rome", "FR": "Europe/Paris", "ES": "Europe/Madrid", "DE": "Europe/Berlin",
    "PT": "Europe/Lisbon", "NL": "Europe/Amsterdam", "GR": "Europe/Athens", "BE": "Europe/Brussels",
    "AT": "Europe/Vienna", "US": "America/New_York",
}  # fmt: skip
FIRST_NAMES: dict[str, list[str]] = {
    "IT": ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Alessandro", "Sara", "Matteo", "Elena", "Lorenzo",
           "Martina", "Davide", "Valentina", "Simone", "Federica", "Andrea", "Paola", "Stefano"],
    "FR": ["Camille", "Julien", "Léa", "Antoine", "Manon", "Hugo"],
    "ES": ["Lucía", "Javier", "Carmen", "Pablo", "Marta", "Diego"],
    "DE": ["Anna", "Lukas", "Sophie", "Jonas", "Lena", "Felix"],
    "PT": ["Inês", "João", "Beatriz", "Tiago", "Mariana"],
    "NL": ["Sanne", "Daan", "Fleur", "Bram"],
    "GR": ["Eleni", "Giorgos", "Maria", "Nikos"],
    "BE": ["Lotte", "Wout", "Elise"],
    "AT": ["Katharina", "Florian", "Theresa"],
    "US": ["Emily", "Michael", "Olivia", "Daniel"],
}  # fmt: skip
LAST_NAMES: dict[str, list[str]] = {
    "IT": ["Rossi", "Bianchi", "Ferrari", "Romano", "Galli", "Conti", "Ricci", "Marino", "Greco", "Bruno",
           "Barbieri", "Lombardi", "Moretti", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso"],
    "FR": ["Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Girard"],
    "ES": ["García", "Martínez", "López", "Sánchez", "Romero", "Navarro"],
    "DE": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner"],
    "PT": ["Silva", "Santos", "Ferreira", "Pereira", "Costa"],
    "NL": ["de Jong", "Jansen", "Visser", "Bakker"],
    "GR": ["Papadopoulos", "Nikolaidis", "Georgiou", "Dimitriou"],
    "BE": ["Peeters", "Janssens", "Maes"],
    "AT": ["Gruber", "Huber", "Bauer"],
    "US": ["Smith", "Johnson", "Miller", "Davis"],
}  # fmt: skip

# Participant type weights: business most, then research, finance, public bodies, others.
PARTICIPANT_TYPE_WEIGHTS: list[tuple[str, int]] = [
    ("business", 62), ("research", 18), ("finance", 8), ("public_body", 7), ("other", 5),
]  # fmt: skip
JOB_TITLES: dict[str, list[str]] = {
    "business": ["CEO", "Founder", "Business Development Manager", "R&D Manager", "Sales Director", "CTO",
                 "Innovation Manager", "Export Manager"],
    "research": ["Associate Professor", "Researcher", "Technology Transfer Officer", "Lab Director", "PhD Fellow"],
    "finance": ["Investment Manager", "Partner", "Analyst", "Business Angel"],
    "public_body": ["Innovation Officer", "Project Manager", "Head of Economic Development"],
    "other": ["Project Coordinator", "Cluster Manager", "Consultant"],
}  # fmt: skip
SIZES: dict[str, list[str]] = {
    "business": ["1-9", "10-49", "10-49", "50-249", "250+"],
    "research": ["50-249", "250+"],
    "finance": ["1-9", "10-49"],
    "public_body": ["50-249", "250+"],
    "other": ["1-9", "10-49"],
}  # fmt: skip

# Pitches: {org} and {topic}/{topic2} filled per participant.
PITCHES: dict[str, list[str]] = {
    "business": [
        "{org} turns {topic} into products our customers can certify. We look for partners to co-develop {topic2}.",
        "We are a family-owned company specialised in {topic}, exporting to 20 countries; we seek distributors and pilot customers.",
        "{org} builds {topic} solutions and wants to meet companies ready to test {topic2} in real settings.",
        "Our team of engineers works on {topic}; we want suppliers and research partners for {topic2}.",
        "From prototype to series production in {topic}: we offer know-how and look for joint EU projects.",
    ],
    "research": [
        "Our lab works on {topic} (TRL 4-6) and seeks companies to validate results on {topic2}.",
        "We transfer research on {topic} to industry: licences, joint labs and funded PhDs.",
        "A research group with pilot lines for {topic}, open to contract research on {topic2}.",
    ],
    "finance": [
        "We invest seed and Series A tickets in {topic} and {topic2} start-ups across Southern Europe.",
        "Innovation desk financing SMEs that adopt {topic}; ask us about guarantees and grants blending.",
    ],
    "public_body": [
        "We procure innovation in {topic} for our territory and seek solutions for {topic2}.",
        "Our agency supports companies working on {topic} with funding calls and testbeds.",
    ],
    "other": [
        "We connect companies working on {topic} and run joint projects on {topic2}.",
        "An association of firms in {topic}, looking for partners for European projects.",
    ],
}

# Opportunity titles per cluster and kind; "{topic}" is filled from the cluster's keywords.
OPPORTUNITIES: dict[str, dict[str, list[str]]] = {
    "Advanced Materials": {
        "offer": [
            "Antiviral coatings for public transport interiors",
            "Graphene-enhanced inks for printed electronics",
            "Bio-based polymers for packaging",
            "Ceramic membranes for water filtration",
        ],
        "request": [
            "Recycled carbon fibre supplier wanted",
            "Partner to scale up nanoparticle synthesis",
            "Testing lab for corrosion protection",
        ],
        "partnership": ["Horizon Europe consortium on circular composites", "Joint lab on smart textiles"],
        "investment": ["Seed round for a thin-film coatings spin-off"],
    },
    "ICT & Railway": {
        "offer": [
            "Predictive maintenance for rolling stock",
            "Digital twin of railway infrastructure",
            "Computer vision for level-crossing safety",
            "Passenger information displays over 5G",
        ],
        "request": [
            "Rail operator to pilot condition monitoring",
            "Cybersecurity audit for signalling systems",
            "Edge computing hardware partner",
        ],
        "partnership": ["EU project on ERTMS testing", "Open data platform for regional transport"],
        "investment": ["Series A for railway AI start-up"],
    },
    "Nautical": {
        "offer": [
            "Hybrid propulsion retrofit for yachts",
            "Lightweight composite decks",
            "Eco antifouling treatment",
            "Custom marine interiors",
        ],
        "request": [
            "Shipyard partner for superyacht refit",
            "Supplier of marine-grade sensors",
            "Designers for onboard comfort systems",
        ],
        "partnership": ["Blue economy consortium on green ports", "Joint stand at boat shows"],
        "investment": ["Growth capital for electric tender production"],
    },
    "Stone": {
        "offer": [
            "Robotic sculpting of marble",
            "Recovered marble slurry as raw material",
            "Ventilated stone facades",
            "Waterjet cutting services",
        ],
        "request": [
            "Architects for luxury surfaces projects",
            "Automation partner for quarry operations",
            "Buyers of recycled stone aggregates",
        ],
        "partnership": ["Sustainable extraction pilot", "Stone and design showroom network"],
        "investment": ["Funding for stone recycling plant"],
    },
    "Fashion": {
        "offer": [
            "Recycled wool yarns",
            "Vegetable-tanned leather for luxury brands",
            "Low-impact dyeing service",
            "Digital product passport for garments",
        ],
        "request": [
            "Brands to test circular collections",
            "Traceability technology partner",
            "3D garment design software",
        ],
        "partnership": ["Upcycling project with design schools", "Textile recycling consortium"],
        "investment": ["Investment in circular fashion platform"],
    },
    "Interiors & Design": {
        "offer": [
            "Acoustic panels from recycled fibres",
            "Modular furniture for hospitality",
            "Smart lighting for offices",
            "Reclaimed wood tables",
        ],
        "request": [
            "Hotel groups for contract furniture",
            "Upholstery supplier with eco-materials",
            "Distributor in Northern Europe",
        ],
        "partnership": ["Biophilic design research project", "Shared showroom in Milan"],
        "investment": ["Seed round for design-tech start-up"],
    },
    "Smart City": {
        "offer": [
            "Low-cost air quality sensors",
            "Urban data platform for municipalities",
            "Smart parking service",
            "Energy community management software",
        ],
        "request": [
            "Municipality to pilot flood monitoring",
            "Partner for public lighting retrofit",
            "E-mobility charging operator",
        ],
        "partnership": ["Living lab for citizen apps", "Consortium for building retrofit call"],
        "investment": ["Impact investment in energy communities"],
    },
}
OPPORTUNITY_KIND_WEIGHTS: list[tuple[str, int]] = [
    ("offer", 45), ("request", 30), ("partnership", 18), ("investment", 7),
]  # fmt: skip
OPPORTUNITY_DESCRIPTIONS = [
    "Ready for pilots in 2027; we share specifications and test data after a first call.",
    "We look for partners able to start within six months.",
    "Proven in two industrial installations; open to adaptation for new sectors.",
    "Looking for a long-term relationship, not a one-off order.",
    "Budget and timeline to be discussed in the meeting.",
]
# Name patterns that only make sense for an Italian organisation.
ITALIAN_ONLY = ("CNR", "Sant'Anna", "Tuscany", "Banca di", "Apennine", "Comune di")

# --with-outcomes: how the meetings went, drawn with these weights.
OUTCOME_KIND_WEIGHTS: list[tuple[str, int]] = [
    ("none", 18), ("further_contact", 34), ("technical_cooperation", 16), ("commercial_agreement", 14),
    ("research_cooperation", 10), ("investment", 4), ("licence", 4),
]  # fmt: skip
RATING_WEIGHTS: list[tuple[int, int]] = [(1, 3), (2, 6), (3, 20), (4, 40), (5, 31)]
SURVEY_STAGE_WEIGHTS: list[tuple[str, int]] = [
    ("no_contact", 25), ("negotiation", 40), ("agreement_signed", 22), ("joint_project", 13),
]  # fmt: skip
FOLLOW_UP_TASKS = [
    "Send the technical datasheet",
    "Share the draft non-disclosure agreement",
    "Arrange a visit to the plant",
    "Send a quotation for the pilot",
    "Introduce our research partner",
    "Prepare the joint proposal outline",
    "Schedule a call with the engineering team",
]
