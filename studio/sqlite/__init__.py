"""SQLite as the studio's embedded database (``ENGINE = "studio.sqlite"``)."""
