"""Benchmark of the message detectors (sale of persons + terrorism) against the text stage.

    .venv/bin/python bench/detect.py [--messages 100000] [--seed 7] [--chunk 5000] [--model DIR_OR_FILE]

Generates a mix of N synthetic messages from templates (per the data rules: schematic, fictional
numbers and links; NOT the labelled corpus) in Arabic, English, French and Arabizi — mostly
ordinary chat, classifieds, news and family talk, with a few per cent of offers and propaganda —
then measures on one core, in the same run:

- the foundation alone: ``haris.text.analysis.analyse_text`` (normalize, language, entities);
- the detectors alone, on the pre-analysed items (both detectors together, every message), twice:
  one message at a time (``Detector.detect`` on each), and a chunk at a time as the engines run
  them (``prefetch_embeddings`` first, so the sentence encoder runs in one batch per chunk);
- end to end: analyse + both detectors, a chunk at a time.

``--model`` scores with another message model than the shipped one (e.g. an earlier
``messages.joblib`` from git, to compare two models on the same machine in the same way).
Messages are processed in chunks so memory stays flat. Prints messages/s for each and the share of
candidates and of flagged messages.
"""
from __future__ import annotations

import argparse
import random
import sys
import time

CHAT = [
    "Running {n} minutes late, start without me.", "Can you pick up bread on the way home?",
    "Did anyone take notes in today's lecture?", "happy birthday {name}!! 🎉🎂", "lol that's so true 😂",
    "J'ai {n} min de retard, commencez sans moi.", "Tu peux prendre du pain en rentrant ?",
    "On se voit samedi à {n}h ?", "رح اتأخر {n} دقايق، ابدأوا بدوني", "جيب خبز وانت راجع الله يخليك",
    "wallah ya 7abibi ana ma3ak bas mesh fahem shu badak", "yalla ntla2a ba3d el shoghol",
    "The meeting moved to room {n}, bring the slides.", "Merci pour hier soir, c'était top !",
    "صباح الخير يا جماعة، مين جاي اليوم؟", "Good morning everyone ☀️", "ok", "👍", "",
]
CLASSIFIED = [
    "Selling my car, {year} model, ${price}, delivery soon. Call +1 555 01{nn}",
    "للبيع سيارة موديل {year} بسعر {price} دولار التسليم قريبا",
    "Agneaux à vendre, {small} € pièce, livraison possible à {town}",
    "خرفان للبيع السعر {small} ألف دينار للتواصل @example_farm{nn}",
    "iPhone 13 for sale, 128GB, ${small}, DM @example_shop{nn}",
    "Appartement à louer, F3, {small}0 € / mois, près de la gare",
    "Kittens for sale, {n} weeks old, ${small} each, vaccinated",
    "Babysitter available, I'm 17, ${n} an hour, evenings. Text +44 7700 900{nnn}",
]
FAMILY = [
    "My daughter is {age} today 🎂 can't believe it", "عيد ميلاد سعيد لابنتي عمرها {age} سنة اليوم",
    "Mon fils a {age} ans aujourd'hui, le temps passe vite", "School trip for the {age} year olds is on Friday",
]
NEWS = [
    "Reuters: the group advertised captives for sale on messaging apps, officials said",
    "Breaking: police rescue {n} victims of trafficking in {town}, NGO says",
    "Selon les enquêteurs, des captives étaient proposées à la vente sur des messageries.",
    "أعلن تنظيم داعش مسؤوليته عن الهجوم بحسب مسؤولين",
    "Daesh supporters moved to smaller apps after the bans, researchers say.",
    "If you see a post offering a person for sale, report it. Helpline +1 555 01{nn}",
]
SPORT_GAMES = [
    "Our strikers bombarded their goal for 90 minutes 😤", "Clan recruitment 🎮 level {n}+, join our Discord",
    "Le club vend son attaquant de {adult} ans pour {n} M€", "The Abbasid caliphate moved its capital to Baghdad.",
    "New channel for the parents of class {n}B: t.me/example_class{nn}",
]
OFFERS = [
    "For sale: girl, {age} years old, ${price}, delivery soon. t.me/example_seller{nn}",
    "للبيع: بنت عمرها {age} سنة، السعر {price} دولار، التسليم قريبا",
    "À vendre : fille de {age} ans, {price} $, livraison bientôt, prix en mp",
    "New girls, {age} to {age2}, prices by DM 💋", "lel be3 bent 3omraha {age}, el se3r {price} dollar",
    "Auction tonight: captive woman ({adult}), opening bid ${price}. Bids in the comments.",
]
PROPAGANDA = [
    "Amaq Agency: soldiers of the caliphate targeted a checkpoint in Wilayat al-{region}",
    "Our channel was banned again. New channel 👉 t.me/example_ansar{nn} — share it with the brothers.",
    "انفروا والتحقوا بصفوف المجاهدين في ولاية {region_ar}، الدولة تنادي الشباب",
    "Ô lions du califat, frappez les croisés où que vous les trouviez.",
    "#باقية_وتتمدد 🏴 الدولة الإسلامية باقية وتتمدد", "baqiya w tatamadad 🏴 el dawla ma bt5las",
]
MIX = [(CHAT, 0.50), (CLASSIFIED, 0.15), (FAMILY, 0.07), (NEWS, 0.10), (SPORT_GAMES, 0.10),
       (OFFERS, 0.04), (PROPAGANDA, 0.04)]
TOWNS = ["Northfield", "Eastgate", "Val-Cendre", "Ras al-Ma", "Tilal"]
REGIONS = ["Sahil", "Janub", "Wadi", "Jabal"]
REGIONS_AR = ["الساحل", "الجنوب", "الوادي", "الجبل"]


def generate(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    pools, weights = zip(*MIX)
    out = []
    for _ in range(n):
        template = rnd.choice(rnd.choices(pools, weights)[0])
        age = rnd.randint(6, 17)
        out.append(template.format(
            n=rnd.randint(2, 40), nn=f"{rnd.randint(0, 99):02d}", nnn=f"{rnd.randint(0, 999):03d}",
            name=rnd.choice(["Sam", "Lina", "Omar", "Jade"]), year=rnd.randint(2005, 2022),
            price=f"{rnd.randint(1, 20)},{rnd.randint(0, 9)}00", small=rnd.randint(50, 900), age=age,
            age2=age + 2, adult=rnd.randint(19, 40), town=rnd.choice(TOWNS), region=rnd.choice(REGIONS),
            region_ar=rnd.choice(REGIONS_AR)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--chunk", type=int, default=5_000)
    ap.add_argument("--model", help="a message model (messages.joblib or its folder); default: the shipped one")
    args = ap.parse_args()

    from haris.detect import encoder
    from haris.detect.message import prefetch_embeddings
    from haris.detect.registry import message_detectors, threshold_for
    from haris.text.analysis import analyse_text

    texts = generate(args.messages, args.seed)
    detectors = message_detectors()
    if args.model:
        from pathlib import Path

        from haris.detect.model import load_model

        model = load_model(Path(args.model))
        detectors = [type(d)(model) for d in detectors]
    for d in detectors:  # load lexicons, rules and the model outside the timings
        list(d.detect(analyse_text("warm up: for sale, new channel of the Dawla")))
    t_analyse = t_detect = c_analyse = c_detect = t_single = c_single = 0.0
    candidates = flagged = encoded = 0
    for i in range(0, len(texts), args.chunk):
        chunk = texts[i:i + args.chunk]
        t0, c0 = time.perf_counter(), time.process_time()
        analysed = [analyse_text(t) for t in chunk]
        t1, c1 = time.perf_counter(), time.process_time()
        prefetch_embeddings([], detectors)   # the baseline: nothing prefetched, one encoder call per message
        for a in analysed:
            [s for d in detectors for s in d.detect(a)]
        t2, c2 = time.perf_counter(), time.process_time()
        encoded += prefetch_embeddings(analysed, detectors)
        for a in analysed:
            sigs = [s for d in detectors for s in d.detect(a)]
            candidates += bool(sigs)
            flagged += any(s.score >= threshold_for(s.policy) for s in sigs)
        t3, c3 = time.perf_counter(), time.process_time()
        t_analyse += t1 - t0
        c_analyse += c1 - c0
        t_single += t2 - t1
        c_single += c2 - c1
        t_detect += t3 - t2
        c_detect += c3 - c2
    n = len(texts)
    print(f"messages: {n:,} (generated mix, seed {args.seed}); with a signal: {candidates:,} "
          f"({100 * candidates / n:.1f}%), flagged: {flagged:,} ({100 * flagged / n:.1f}%); "
          f"sent to the sentence encoder (distinct texts of a chunk): {encoded:,} ({100 * encoded / n:.1f}%)")
    # CPU time of this one process is the "one core" figure; wall time also counts waiting for a
    # core on a busy machine, so both are printed.
    print(f"{'messages/s':52} {'CPU time':>10} {'wall clock':>11}")
    for name, c, t in (("text stage alone (normalize + language + entities)", c_analyse, t_analyse),
                       ("both detectors, one message at a time", c_single, t_single),
                       ("both detectors, a chunk at a time (engines)", c_detect, t_detect),
                       ("end to end (text stage + detectors by chunk)", c_analyse + c_detect, t_analyse + t_detect)):
        print(f"{name:52} {n / c:>10,.0f} {n / t:>11,.0f}")
    print(f"chunked detectors / one at a time: {c_single / c_detect:.2f}x;"
          f" chunked detectors / text stage: {c_analyse / c_detect:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
