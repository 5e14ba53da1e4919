"""Pure domain rules: labels, clock, calendar, periods, intake validation, personal data."""
