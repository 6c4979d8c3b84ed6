"""haris.detect"""
