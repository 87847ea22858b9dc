"""Forms of the room moderation page; the rules themselves are checked by moderation.services."""

from django import forms

from moderation.models import FilterAction, RoomRules


class BlockedTermForm(forms.Form):
    term = forms.CharField(max_length=200)
    action = forms.ChoiceField(choices=FilterAction.choices, initial=FilterAction.BLOCK)
    whole_word = forms.BooleanField(
        required=False, initial=True, help_text="Match whole words only."
    )


class RoomRulesForm(forms.ModelForm):
    class Meta:
        model = RoomRules
        fields = [
            "link_mode",
            "allowed_domains",
            "link_action",
            "max_caps_ratio",
            "min_letters_for_caps",
            "max_emoji",
            "max_repeated_chars",
            "flood_action",
        ]
        widgets = {"allowed_domains": forms.Textarea(attrs={"rows": 3})}
