"""Rehousing coordination: households, vacancies, referrals and support links across organisations."""
