"""People and access: users, sessions, roles and permissions."""
