"""The kernel: tenancy, people, audit, modules and the web foundations.

The kernel knows nothing of orders or invoices; business modules build on the
public API re-exported from :mod:`distretto.platform.api`.
"""
