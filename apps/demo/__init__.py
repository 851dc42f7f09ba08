"""The demo data (seed_demo), standing above every other app."""
