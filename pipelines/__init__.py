"""The crawl's item pipelines, one class a file, in `settings.ITEM_PIPELINES` order:
normalize, validate (rejects are recorded), version/dedupe, store (batched transactions).
`pipelines.chain.PipelineChain` runs the same classes without Scrapy for `hoard import`/`reparse`.
"""
