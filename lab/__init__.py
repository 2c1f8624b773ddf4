"""The lab: measurement of the product, kept apart from it.

    evaluation/       `trendsearch eval`: retrieval quality on BEIR-format sets, and the studies
    bench/            `trendsearch bench`: indexing and search speed, side by side in one run
    trends_replay.py  a time-ordered stream replayed through the trends service
    trends_eval.py    `trendsearch eval-trends`: a replay written out and scored
    scripts/          how the bundled sample was built (build_sample.py; one module per kind of source)
    results/          committed results and how to regenerate them
    cli.py            registers the commands above into `trendsearch`

The product (`search`, `indexer`, `migrations`, `server`) never imports this
package; it imports them. The commands reach `trendsearch` through the
`trendsearch.commands` entry point declared in `pyproject.toml`, so they exist
wherever this folder is importable: a checkout after `./run.sh setup`.
"""

__all__: list[str] = []  # the subpackages and `cli.register` are imported by path
