"""A person's Slack status follows their phone presence (issue 12 points 1, 2 and 8).

* :mod:`.tokens`: the person's own Slack user token, sealed, under their workspace's data prefix.
* :mod:`.flow`: the pages of the per-person Slack OAuth v2 flow that grants it ("Connect Slack status").
* :mod:`.mapping`: which emoji and text each phone activity shows, and when it ends.
* :mod:`.sync`: setting the status (and DND) on presence, and putting the previous one back.
"""
