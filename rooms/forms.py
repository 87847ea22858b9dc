from django import forms


class RoomForm(forms.Form):
    title = forms.CharField(max_length=120)
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.CharField(max_length=50, required=False)
    tags = forms.CharField(
        max_length=200,
        required=False,
        help_text="Up to 5 words, separated by spaces or commas.",
    )
