"""Stage 2: accounts and regions opened, every source fetched through recorded clients into raw/."""
