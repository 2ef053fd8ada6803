"""Road links shared by several domains: the interventions that close, open or change them
(read by traffic, accessibility, shop access and commerce)."""
