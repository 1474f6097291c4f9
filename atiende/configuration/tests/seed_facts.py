"""The facts of the customer's channel sheet (shared/seed/canales-de-atencion.txt), copied
literally. The reference configuration must hold all of them, and /canales must show them."""

INTRO = (
    "EL CLIENTE puede comunicarse con EL PRESTADOR DE SERVICIOS a través de los siguientes "
    "canales de atención para la atención de requerimientos, cambios o incidentes en el servicio"
)
WEEKDAYS = "Lunes a Viernes de 7:00 am a 7:00 pm"
SATURDAY = "Sábado de 8:00 am a 1:00 pm"
INCIDENTS_24_7 = "*Atención de incidentes 24/7"
REQUESTS = "*Atención de solicitudes"
CLASSIFICATION = "Etiquetado: Público"

SECTIONS = [
    ("phone", "Atención telefónica"),
    ("email", "Atención por correo electrónico"),
    ("whatsapp", "Atención por WhatsApp corporativo"),
    ("portal", "Atención portal"),
]
COLUMN_HEADINGS = [
    "Número",
    "Tipos de solicitudes",
    "Horarios de atención",
    "Horarios de recepción de solicitudes",
    "Enlaces",
    "Horario",
    "URL",
    "Descripción",
]

PORTAL_DESCRIPTION = (
    "En el portal de autogestión de mesa de ayuda de Certicámara, el cliente tiene la "
    "facilidad de crear los casos o reportar novedades, hacer seguimiento, verificar notas y "
    "avances en línea, así como, agregar información adicional a los mismos, si es requerida "
    "por nuestro equipo técnico."
)
ORIGINAL_PORTAL_URL = "https://certicamara.service-now.com/csm"

# slug, kind, number/address as written on the sheet, link, "TIPOS DE SOLICITUDES",
# hours as the sheet lists them, description.
CHANNELS = [
    (
        "linea-bogota",
        "phone",
        "601 7442727",
        "",
        "TODOS",
        [WEEKDAYS, SATURDAY],
        "Línea de servicio al cliente de Certicámara en Bogotá.",
    ),
    (
        "linea-nacional",
        "phone",
        "01 8000 181531",
        "",
        "TODOS",
        [WEEKDAYS, SATURDAY],
        "Línea Gratuita Nacional de servicio al cliente de CERTICÁMARA",
    ),
    (
        "correo",
        "email",
        "mesadeayuda@certicamara.com",
        "",
        "TODOS",
        [WEEKDAYS, SATURDAY],
        "Correo electrónico para atención de casos.",
    ),
    (
        "whatsapp-monitoreo",
        "whatsapp",
        "+57 318 487 2656",
        "https://wa.me/573184872656",
        "INCIDENTES CRÍTICOS",
        ["24/7"],
        "WhatsApp Centro de Monitoreo de Certicámara para notificación de incidentes críticos.",
    ),
    (
        "whatsapp-corporativo",
        "whatsapp",
        "+57 316 873 1648",
        "https://wa.me/573168731648",
        "TODOS",
        [INCIDENTS_24_7, REQUESTS, WEEKDAYS, SATURDAY],
        "WhatsApp Corporativo, que permite interactuar con un agente de servicio para la "
        "atención de solicitudes.",
    ),
    (
        "portal",
        "portal",
        "",
        "/portal/",
        "TODOS",
        [INCIDENTS_24_7, REQUESTS, WEEKDAYS, SATURDAY],
        PORTAL_DESCRIPTION,
    ),
]

ESCALATION_TITLE = "Niveles de escalamiento"
ESCALATION_TEXT = (
    "Los clientes deberán tener en cuenta los niveles de escalamiento definidos para el "
    "tratamiento de los incidentes de soporte. El responsable de cada nivel de escalamiento "
    "verificará que el incidente de soporte reportado, haya surtido los niveles de "
    "escalamiento precedentes y no haya recibido atención y/o soluciones necesarias."
)
ESCALATION_HEADINGS = ["Nivel de escalamiento", "Nombre", "Canales de escalamiento"]

# number, name, title, responsible, contact channels as written on the sheet
LEVELS = [
    (
        1,
        "Primer escalamiento",
        "Grupo de soporte técnico",
        "",
        [
            "mesadeayuda@certicamara.com",
            "Teléfono fijo: 6017442727",
            "WhatsApp: 3168731648",
            "ServiceNow Cliente",
        ],
    ),
    (
        2,
        "Segundo escalamiento",
        "Supervisor de servicio de soporte técnico",
        "Orlando Méndez",
        ["supervisor.mesadeayuda@certicamara.com", "orlando.mendez@certicamara.com"],
    ),
    (
        3,
        "Tercer escalamiento",
        "Coordinación de servicio de soporte a clientes",
        "Nelson Calderón",
        [
            "coordinador.mesadeayuda@certicamara.com",
            "nelson.calderon@certicamara.com",
            "Celular/WhatsApp: 3187174937",
        ],
    ),
    (
        4,
        "Cuarto escalamiento",
        "Director de Infraestructura y Soporte",
        "Iván Rodríguez",
        ["ivan.rodriguez@certicamara.com", "Teléfono móvil: 3222197967"],
    ),
]

# PRODUCT.md: type, priority, first response, resolution (seconds), own schedule
SLA_TARGETS = [
    ("incident", "critical", 15 * 60, 4 * 3600, "24x7"),
    ("incident", "high", 3600, 8 * 3600, None),
    ("incident", "moderate", 4 * 3600, 24 * 3600, None),
    ("incident", "low", 8 * 3600, 40 * 3600, None),
    # not in PRODUCT.md: a critical request gets the high-priority targets (our choice)
    ("request", "critical", 3600, 8 * 3600, None),
    ("request", "high", 3600, 8 * 3600, None),
    ("request", "moderate", 4 * 3600, 24 * 3600, None),
    ("request", "low", 8 * 3600, 40 * 3600, None),
    ("change", "critical", 8 * 3600, 48 * 3600, None),
    ("change", "high", 8 * 3600, 48 * 3600, None),
    ("change", "moderate", 8 * 3600, 48 * 3600, None),
    ("change", "low", 8 * 3600, 48 * 3600, None),
]
