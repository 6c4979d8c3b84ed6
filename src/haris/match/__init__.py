"""haris.match"""
