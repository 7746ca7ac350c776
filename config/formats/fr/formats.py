"""French dates, matching the English ones in shape: "5 décembre 2026 à 14:32" and
"5 déc. 2026, 14:32". Used with FORMAT_MODULE_PATH = ["config.formats"]."""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = r"j F Y \à H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "j N Y"
SHORT_DATETIME_FORMAT = "j N Y, H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
