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


class NewRoomForm(RoomForm):
    """Creating a room may also choose its address, which never changes afterwards."""

    slug = forms.CharField(
        max_length=60,
        required=False,
        label="Address",
        help_text="Optional: lower-case letters, digits and dashes. Made from the title if empty.",
    )
