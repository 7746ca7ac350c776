"""The bare floor: a minimal Django project served the same way as Portevoix (gunicorn,
the same workers, the same database), so a ratio says what the product's own work costs."""
