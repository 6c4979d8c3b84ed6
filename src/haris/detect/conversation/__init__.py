"""Conversation-level detection of child grooming and exploitation (policy ``child_exploitation``).

- :func:`assemble`, :func:`load_conversations`, :func:`conversation_from_eval_row`: threads
  to score, from messages, the store or an eval file;
- :class:`ConversationState`: incremental scoring, one message at a time, bounded memory;
- :class:`GroomingDetector`: the detector on the shared interface (name "grooming",
  scope "conversation");
- :func:`evaluate_conversations`, :func:`render_evaluation`: precision, recall and
  earliness on a labelled conversation file.

See docs/grooming.md for the stages, the features and the calibration.
"""
from haris.detect.conversation.assemble import (ConversationView, assemble, conversation_from_eval_row,
                                                load_conversations)
from haris.detect.conversation.detector import GroomingDetector, replay, signal_from_state
from haris.detect.conversation.evaluate import evaluate_conversations, render_evaluation
from haris.detect.conversation.lexicon import STAGES, supported_languages
from haris.detect.conversation.scoring import assess, default_threshold
from haris.detect.conversation.state import ConversationState

__all__ = ["ConversationState", "ConversationView", "GroomingDetector", "STAGES", "assemble", "assess",
           "conversation_from_eval_row", "default_threshold", "evaluate_conversations", "load_conversations",
           "render_evaluation", "replay", "signal_from_state", "supported_languages"]
