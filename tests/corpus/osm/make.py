"""Writes the small OSM fixtures of the tiler tests (run by hand: pip install osmium; python3 make.py).

Coordinates are near Helsinki; ids are ours. Each fixture exercises one kind of input:
- no-buildings.osm.pbf: nodes and a road, not a single building;
- mixed.osm.pbf: one good building and every kind of broken one, a courtyard multipolygon,
  a multipolygon that cannot be closed, and roads crossing each other.
"""
import osmium
from osmium.osm.mutable import Node, Way, Relation

LON, LAT = 24.9400, 60.1700
D = 0.0002  # degrees: about 22 m north-south and 11 m east-west at this latitude


def node(i, x, y, tags=None):
    return Node(id=i, location=(LON + x * D, LAT + y * D), tags=tags or {}, version=1)


def write(path, nodes, ways, relations=()):
    import os
    if os.path.exists(path):
        os.remove(path)
    with osmium.SimpleWriter(path) as w:
        for n in nodes:
            w.add_node(n)
        for x in ways:
            w.add_way(x)
        for r in relations:
            w.add_relation(r)


write('no-buildings.osm.pbf',
      [node(1, 0, 0), node(2, 5, 0), node(3, 9, 1, {'amenity': 'bench'})],
      [Way(id=1, nodes=[1, 2], tags={'highway': 'residential', 'name': 'Testikatu'}, version=1)])

nodes = [
    # 1-4: a good square building (and 5-8 a second square for the tall tag test)
    node(1, 0, 0), node(2, 2, 0), node(3, 2, 2), node(4, 0, 2),
    node(5, 4, 0), node(6, 6, 0), node(7, 6, 2), node(8, 4, 2),
    # 10-12: collinear; 13-14: two points
    node(10, 10, 0), node(11, 11, 0), node(12, 12, 0), node(13, 14, 0), node(14, 15, 0),
    # 20-27: courtyard multipolygon outer (20-23) split into two ways, inner (24-27)
    node(20, 0, 10), node(21, 8, 10), node(22, 8, 18), node(23, 0, 18),
    node(24, 3, 13), node(25, 5, 13), node(26, 5, 15), node(27, 3, 15),
    # 30-32: an open outer that cannot be closed
    node(30, 20, 10), node(31, 24, 10), node(32, 24, 14),
    # 40-44: a road cross
    node(40, -5, 5), node(41, 5, 5), node(42, 15, 5), node(43, 5, -5), node(44, 5, 8),
]
ways = [
    Way(id=1, nodes=[1, 2, 3, 4, 1], tags={'building': 'office', 'height': '12', 'name': 'Hyvä talo',
                                           'addr:street': 'Testikatu', 'addr:housenumber': '1'}, version=1),
    Way(id=2, nodes=[5, 6, 7, 8, 5], tags={'building': 'house', 'height': 'tall'}, version=1),
    Way(id=3, nodes=[10, 11, 12, 10], tags={'building': 'yes'}, version=1),
    Way(id=4, nodes=[13, 14, 13], tags={'building': 'yes'}, version=1),
    Way(id=5, nodes=[1, 2, 3], tags={'building': 'yes'}, version=1),
    Way(id=6, nodes=[1, 2, 999, 1], tags={'building': 'yes'}, version=1),
    Way(id=20, nodes=[20, 21, 22], tags={}, version=1),
    Way(id=21, nodes=[22, 23, 20], tags={}, version=1),
    Way(id=22, nodes=[24, 25, 26, 27, 24], tags={}, version=1),
    Way(id=23, nodes=[30, 31, 32], tags={}, version=1),
    Way(id=40, nodes=[40, 41, 42], tags={'highway': 'primary', 'name': 'Pääkatu'}, version=1),
    Way(id=41, nodes=[43, 41, 44], tags={'highway': 'residential', 'oneway': 'yes'}, version=1),
]
relations = [
    Relation(id=10, members=[('w', 20, 'outer'), ('w', 21, 'outer'), ('w', 22, 'inner')],
             tags={'type': 'multipolygon', 'building': 'apartments', 'building:levels': '5'}, version=1),
    Relation(id=11, members=[('w', 23, 'outer')], tags={'type': 'multipolygon', 'building': 'yes'}, version=1),
]
write('mixed.osm.pbf', nodes, ways, relations)
