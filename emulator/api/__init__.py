"""The served API: CloudTrail LookupEvents, STS, Organizations, EC2 and Price List GetProducts on
one loopback endpoint.

Imports point one way: state <- admin <- server <- runtime.

    runtime     the Emulator: its state, served async or from a thread; Running: its address
    state       what it serves from (history, limits, faults, sessions, counters), the app key
    server      the HTTP front, dispatch by X-Amz-Target or Action; admin the /_emulator/* calls
    cloudtrail  LookupEvents over the history (index, events, tokens); sts, inventory the rest;
    pricing     Price List GetProducts over a small product list
    protocol    wire formats and errors; auth the caller's key and region from SigV4
    faults      injected failures; latency and limits the delays and the rate limit
    loading     record files and documents in; stats the counters; clock the time
"""
