"""Deadline-day load: many organisations log in, fill an entry, upload two PDFs and submit."""
