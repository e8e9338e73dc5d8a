"""Model clients: the shared interface (``base``), the OpenAI and Anthropic SDK clients,
and the retry policy they share. Import the clients from :mod:`runtime`."""
