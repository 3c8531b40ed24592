"""Stage 5: the only code that runs things against a warehouse: dbt (`dbt_runner`), Great
Expectations (`gx_runner`) and labelpact's own queries (`warehouse`)."""
