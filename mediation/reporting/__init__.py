"""Supervisors' reports and statistics, and rendering results as text, CSV or JSON."""
