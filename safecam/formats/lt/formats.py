"""Lithuanian formats: Django's, except the thousands separator.

Django's ``lt`` locale groups thousands with a dot (1.234,5); Lithuanian typography (and the
State Commission of the Lithuanian Language) writes a space, non-breaking so a figure never splits
across lines: 1 234,5.
"""

from django.conf.locale.lt.formats import *  # noqa: F403

THOUSAND_SEPARATOR = "\xa0"
