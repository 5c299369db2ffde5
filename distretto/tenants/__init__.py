"""Tenant lifecycle: firms, memberships, onboarding and settings."""
