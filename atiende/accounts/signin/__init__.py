"""The one sign-in for people: the page at /accounts/login/ (console and portal), sign-out,
password change and reset, and the throttle that every way in goes through
(`backends.ThrottledBackend`, also used by the admin's login)."""
