"""A half never joins the wrong report: pairs are close in time and, where known, in place."""

from __future__ import annotations

from handlers.pairing import distance_m
from tests.conftest import both_backends, photo_count, send, tickets
from tests.images import jpeg, jpeg_with_gps

SPOT = (31.40512, 121.48931)
FAR = (31.43200, 121.48931)  # about 3 km north
NEAR = (31.40560, 121.48990)  # about 80 m away


def test_distances_are_in_metres():
    assert 2900 < distance_m(*SPOT, *FAR) < 3100
    assert 50 < distance_m(*SPOT, *NEAR) < 100


@both_backends
async def test_a_photo_after_a_long_pause_does_not_join_an_earlier_lone_photo(
    bot, chat, laowang, clock
):
    await send(bot, chat, laowang, photos=[jpeg(1)])  # lunch, or a report whose location got lost
    clock.advance(minutes=5)
    await send(bot, chat, laowang, photos=[jpeg(2)], text="井盖坏了")
    [ack] = await send(bot, chat, laowang, location=SPOT)
    [ticket] = await tickets(bot)
    assert ack.text.startswith("已登记 #1 井盖损坏")
    assert await photo_count(bot, ticket.id) == 1


async def test_photos_sent_one_after_another_stay_one_report(bot, chat, laowang, clock):
    await send(bot, chat, laowang, photos=[jpeg(1)])
    clock.advance(seconds=40)
    await send(bot, chat, laowang, photos=[jpeg(2)])
    await send(bot, chat, laowang, location=SPOT)
    [ticket] = await tickets(bot)
    assert await photo_count(bot, ticket.id) == 2


@both_backends
async def test_a_photo_with_its_own_position_far_from_a_held_location_stands_alone(
    bot, chat, laowang, clock
):
    await send(bot, chat, laowang, location=SPOT)  # a location for one problem…
    clock.advance(minutes=3)
    said = await send(  # …and a photo of another, 3 km away
        bot, chat, laowang, photos=[jpeg_with_gps(*FAR)], photo_as_file=True, text="路口积水"
    )
    [ticket] = await tickets(bot)
    assert said[0].text.startswith("已登记 #1 道路积水")
    assert abs(ticket.lat - FAR[0]) < 1e-4 and abs(ticket.lon - FAR[1]) < 1e-4


async def test_a_photo_with_its_own_position_near_the_held_location_pairs_with_it(
    bot, chat, laowang
):
    await send(bot, chat, laowang, location=SPOT)
    await send(bot, chat, laowang, photos=[jpeg_with_gps(*NEAR)], photo_as_file=True)
    [ticket] = await tickets(bot)
    assert (ticket.lat, ticket.lon) == SPOT  # the shared location is what the rider chose


async def test_a_location_older_than_the_window_does_not_pair_with_a_new_photo(
    bot, chat, laowang, clock
):
    await send(bot, chat, laowang, location=SPOT)
    clock.advance(minutes=11)
    assert await send(bot, chat, laowang, photos=[jpeg(3)]) == []
    assert await tickets(bot) == []
