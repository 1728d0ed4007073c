"""Urgency: which messages need a person now, and why (see ``detector``)."""

from __future__ import annotations

from frankly.result import Urgency, UrgencyReason
from frankly.urgency.detector import (LANGUAGES, UrgencyDetector, default_detector,
                                      read_phrases)
from frankly.urgency.model import CATEGORIES, CATEGORY_NAMES
from frankly.urgency.phrases import Phrase

__all__ = ["CATEGORIES", "CATEGORY_NAMES", "LANGUAGES", "Phrase", "Urgency",
           "UrgencyDetector", "UrgencyReason", "default_detector", "read_phrases"]
