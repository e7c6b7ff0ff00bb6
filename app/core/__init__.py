"""What every domain uses: settings, the database and its unit of work, the error family,
periods, and the column and pydantic types shared across domains."""
