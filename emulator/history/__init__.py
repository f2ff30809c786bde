"""The history generator: seeded, deterministic CloudTrail histories with their ground truth.

generator   the spec, the records (in memory or in CloudTrail's S3 layout) and the truth
scenarios   the life stories of one (account, region) and who is left over (truth)
stories     the tricky stories; lifecycles_* one story per resource type
templates*  write records of every catalog type, shaped on real samples (envelope the frame)
actors      who calls; noise the read-only calls; original the original script's case
"""
