"""Ventanilla: information, registration, referral and two-way communication for migrant resource centres."""
