"""Stage 3-4: contracts -> one engine-neutral check plan (`plan`) -> rendered artifacts.
`sql/` renders checks for each dialect, `targets/` turns plans into dbt and GX files, and
`artifacts` is the one small place that writes them. Pure functions: nothing here touches a
database."""
