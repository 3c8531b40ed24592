"""Stage 1-2: the contract language. YAML loading with locations (`yamlload`), the language
itself (`spec`), resolving raw YAML into typed `Contract`s (`resolve`, `model`), and the tools
built on it: `lint`, `diff` between versions, `docs`."""
