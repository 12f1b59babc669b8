"""The policy lab: what each rule version caught (diff), what slipped just under it (near-misses), the
most useful design a rule still lets through and the reform that closes it (loopholes), the dated
windows in which chips shipped without a licence (windows), and charts of all of it."""
