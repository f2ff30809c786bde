"""The served API: CloudTrail LookupEvents, STS, Organizations and EC2 on one loopback endpoint.

runtime     the Emulator object: records in, faults switched, served async or in a thread
server      the HTTP front (dispatch by X-Amz-Target or Action); admin: /_emulator/*
cloudtrail  LookupEvents over the history (index, events, tokens); sts, inventory the rest
protocol    wire formats and errors; auth the caller's key and region from SigV4
faults      injected failures; latency and limits the delays and the rate limit
loading     record files and documents in; stats the counters; clock the time
"""
