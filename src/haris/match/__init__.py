"""Match known content: hash banks for images and video, near-duplicate text, links.

==================  ====================================================================
module              what it holds
==================  ====================================================================
hashing             ``hash_file(path) -> MediaHashes`` (MD5, SHA-256, PDQ + quality, vPDQ)
pdq_index           exact PDQ range search (multi-index hashing; FAISS flat for small sets)
video               vPDQ matching by the share of matching frames
text                near-duplicate text (normalization, shingles, MinHash LSH, exact Jaccard)
links               canonical URLs and domains
signals             the signal types banks hold and their canonical forms
tables, banks       the bank tables and :class:`~haris.match.banks.BankStore` (create, add, import…)
formats             bank files: plain lists, python-threatexchange, HMA JSON, STIX 2.1
matcher             :class:`~haris.match.matcher.Matcher`: matches as Signals; the "bank-match" detector
cli                 ``haris bank …`` and ``haris hash …``
==================  ====================================================================

See docs/matching.md.
"""
