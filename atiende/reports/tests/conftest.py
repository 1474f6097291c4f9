from atiende.reports.tests.week import frozen_end, week  # noqa: F401 - fixtures
