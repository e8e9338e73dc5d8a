"""Web: the server-rendered pages."""
