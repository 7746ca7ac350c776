"""English dates as the rest of the product writes them (day, month, year, 24-hour
clock), not Django's American defaults that mixed "Dec. 5, 2026, 2:32 p.m." with
"12/05/2026". Used with FORMAT_MODULE_PATH = ["config.formats"]."""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = r"j F Y \a\t H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "j N Y"
SHORT_DATETIME_FORMAT = "j N Y, H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
