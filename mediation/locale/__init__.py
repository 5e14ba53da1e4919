"""The translation catalogs of :mod:`mediation.i18n` (``<lang>/LC_MESSAGES/mediation.po``
and its compiled ``.mo``), and :mod:`mediation.locale.catalog`, which builds them."""
