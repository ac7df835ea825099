"""The household tags communities keep in their ledgers (台账). Names are data, editable in the admin.

Kept here (not only in the data migration) so that a service can restore them.
"""

DEFAULT_TAGS = [
    ("elderly-alone", "独居老人"),
    ("empty-nest", "空巢老人"),
    ("disabled", "残疾人"),
    ("low-income", "低保户"),
    ("special-hardship", "特困人员"),
    ("veteran", "退役军人"),
    ("left-behind-child", "留守儿童"),
    ("serious-illness", "大病患者"),
    ("party-member", "党员户"),
]
