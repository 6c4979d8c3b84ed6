"""Measure extraction speed on synthetic messages: ``python -m haris.text.extract._bench``.

Builds a reproducible mix of short ar/en/fr messages (about 100 characters; most without
entities, as in real traffic, the rest with ages, prices, phones, handles, links and places)
and prints CPU microseconds per message (process time, so that other
processes on a busy machine count less) for :func:`haris.text.extract.extract`.
"""
from __future__ import annotations

import random
import statistics
import sys
import time

from haris.text.extract import extract, warm_up

_CHATTER = [
    "good morning everyone, the meeting is moved to tomorrow after lunch, please confirm",
    "bonjour à tous, la réunion est reportée à demain après le déjeuner, merci de confirmer",
    "صباح الخير للجميع، تم تأجيل الاجتماع إلى الغد بعد الغداء، يرجى التأكيد من فضلكم",
    "the weather was nice yesterday and we walked along the river with the kids for hours",
    "on a regardé le match hier soir, quelle belle victoire pour l'équipe, bravo à tous",
    "الله يعطيكم العافية على هذا المجهود الرائع ونتمنى لكم التوفيق والنجاح دائما",
    "new phone case arrived today, works fine, shipping took two weeks but it's ok",
    "هل يعرف أحد محل تصليح هواتف قريب من وسط المدينة؟ الشاشة مكسورة",
]
# Entity templates; the placeholders get random values so that no cache sees a message twice.
_ENTITY = [
    "A {age}-year-old girl for sale, price ${k},{h}00, delivery soon. Contact @example_{u}",
    "بنت عمرها {age_ar} سنة للبيع السعر {k_ar}٫{h_ar}٠٠ دولار التسليم قريبا في الرقة t.me/example_{u}",
    "fille de {age} ans, prix {k} {h}00 €, contact tg: example_{u} ou +44 7700 900{p3}",
    "أم مع طفل عمره 3 سنوات وطفلة عمرها {m} أشهر ب {k},{h}00 $ للتواصل ٠٠٩٦٣٩٣٣{p6_ar}",
    "join us https://t.me/+AbCd{u}Example and chat.whatsapp.com/AbCdEf{u}Example now",
    "new channel t.me/example_{u} after the ban, share it, news from Mosul and Deir ez-Zor",
    "car for sale 2015 model, {k} آلاف دولار, call 0933 {p3} {p3}, located in Aleppo",
    "I'll pay ${age}0 per picture, send to snap: example.{u}, don't tell your parents",
]
_AR_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def messages(n: int = 1000, seed: int = 7, entity_share: float = 0.4) -> list[str]:
    """``n`` messages: chatter, and with ``entity_share`` probability a filled entity template."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() >= entity_share:
            out.append(rng.choice(_CHATTER))
            continue
        values = {"age": rng.randint(8, 17), "k": rng.randint(2, 15), "h": rng.randint(1, 9),
                  "u": "".join(rng.choice("abcdefghij") for _ in range(6)), "m": rng.randint(2, 11),
                  "p3": rng.randint(100, 999), "p6": rng.randint(100000, 999999)}
        for name in ("age", "k", "h", "p6"):
            values[name + "_ar"] = str(values[name]).translate(_AR_DIGITS)
        out.append(rng.choice(_ENTITY).format(**values))
    return out


def main(n: int = 1000, rounds: int = 5) -> float:
    """Time ``rounds`` batches of ``n`` fresh messages; print and return the best µs/message."""
    batches = [messages(n, seed=7 + r) for r in range(rounds)]
    warm_up()  # build lexicons, patterns and the automaton outside the measurement
    timings = []
    for batch in batches:
        t0 = time.process_time()
        for m in batch:
            extract(m)
        timings.append((time.process_time() - t0) / len(batch) * 1e6)
    avg_len = sum(map(len, batches[0])) / n
    best, median = min(timings), statistics.median(timings)
    print(f"{n} messages x {rounds} batches, {avg_len:.0f} chars on average: "
          f"best {best:.1f} µs/message, median {median:.1f} µs/message")
    return best


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
