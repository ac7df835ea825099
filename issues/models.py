"""The issue list (问题清单) arrives in a later issue: claim, dispatch, due times, rates."""
