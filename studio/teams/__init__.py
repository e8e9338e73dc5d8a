"""Teams as data: credentials, models, agents, teams and their versions."""
