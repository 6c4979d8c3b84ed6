"""Victim protection: people at risk and safety interventions in their language.

- :func:`intervention_for` — the safety message for a child (ar, en, fr) with the child
  helplines and reporting lines of their country (``data/helplines.yaml``);
- :func:`at_risk_from_signal`, :func:`record_at_risk` — the likely minor of a flagged
  grooming conversation, stored in the restricted ``at_risk_persons`` table.
"""
from haris.protect.at_risk import (AtRiskPerson, at_risk_for_conversation, at_risk_from_signal, mark_intervention,
                                   record_at_risk)
from haris.protect.interventions import Intervention, Resource, intervention_for, resources_for

__all__ = ["AtRiskPerson", "Intervention", "Resource", "at_risk_for_conversation", "at_risk_from_signal",
           "intervention_for", "mark_intervention", "record_at_risk", "resources_for"]
