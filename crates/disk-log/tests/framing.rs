use disk_log::{ErrorKind, Reader, Status, Writer, MD5_THRESHOLD};
use proptest::prelude::*;

fn write(items: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Writer::new(Vec::new()).unwrap();
    for i in items {
        w.write_item(i).unwrap();
    }
    w.finish().unwrap()
}

fn read_all(bytes: &[u8]) -> Result<Vec<Vec<u8>>, disk_log::Error> {
    let mut r = Reader::new(bytes)?;
    let mut out = Vec::new();
    let mut buf = Vec::new();
    while r.next_item(&mut buf)?.is_some() {
        out.push(buf.clone());
    }
    Ok(out)
}

#[test]
fn md5_field_starts_exactly_at_threshold() {
    let below = write(&[vec![0x83; MD5_THRESHOLD - 1]]);
    let at = write(&[vec![0x83; MD5_THRESHOLD]]);
    assert_eq!(below.len(), 8 + 8 + MD5_THRESHOLD - 1);
    assert_eq!(at.len(), 8 + 24 + MD5_THRESHOLD);
    assert_eq!(read_all(&at).unwrap()[0].len(), MD5_THRESHOLD);
}

#[test]
fn header_is_closed_and_items_framed() {
    let bytes = write(&[b"\x83\x6a".to_vec()]);
    assert_eq!(
        bytes,
        b"\x01\x02\x03\x04\x63\x58\x4d\x0b\x00\x00\x00\x02bWLA\x83\x6a"
    );
    assert_eq!(Reader::new(&bytes[..]).unwrap().status(), Status::Closed);
    let mut opened = bytes.clone();
    opened[4..8].copy_from_slice(&[6, 7, 8, 9]);
    assert_eq!(Reader::new(&opened[..]).unwrap().status(), Status::Opened);
}

#[test]
fn faults_name_their_offset() {
    let good = write(&[b"\x83\x6a".to_vec(), b"\x83\x6a".to_vec()]);
    // Junk before an item, as in EMQX's bad-file fixture.
    let mut junk = good[..8].to_vec();
    junk.extend(b"bad file\n\n\n");
    junk.extend(&good[8..]);
    let e = read_all(&junk).unwrap_err();
    assert_eq!(e.offset, 8);
    assert!(matches!(e.kind, ErrorKind::BadItemMagic(_)));
    // Truncated inside the second item's payload.
    let e = read_all(&good[..good.len() - 1]).unwrap_err();
    assert_eq!(e.offset, 18);
    assert!(matches!(
        e.kind,
        ErrorKind::Truncated {
            expected: 2,
            found: 1
        }
    ));
    // Truncated inside an item header.
    let e = read_all(&good[..12]).unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::Truncated {
            expected: 8,
            found: 4
        }
    ));
    // Not a log at all, and too short.
    assert!(matches!(
        Reader::new(&b"corrupted\n"[..]).err().unwrap().kind,
        ErrorKind::NotALog(_)
    ));
    assert!(matches!(
        Reader::new(&b"\x01\x02"[..]).err().unwrap().kind,
        ErrorKind::ShortHeader
    ));
    let mut bad_status = good.clone();
    bad_status[4] = 0;
    assert!(matches!(
        Reader::new(&bad_status[..]).err().unwrap().kind,
        ErrorKind::BadStatus(_)
    ));
}

#[test]
fn size_beyond_file_and_limits() {
    // A size field of 4 GiB - 1 with a valid magic and MD5: refused by the item limit.
    let mut bytes = write(&[]);
    bytes.extend([0xff, 0xff, 0xff, 0xff]);
    bytes.extend(b"bWLA");
    bytes.extend(<md5::Md5 as md5::Digest>::digest([
        0xffu8, 0xff, 0xff, 0xff,
    ]));
    let e = read_all(&bytes).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::ItemTooLarge { .. }));
    // A big item whose MD5 is wrong.
    let mut big = write(&[vec![0x83; MD5_THRESHOLD]]);
    big[20] ^= 1;
    assert!(matches!(
        read_all(&big).unwrap_err().kind,
        ErrorKind::BadMd5 { .. }
    ));
    // A size larger than what remains.
    let mut short = write(&[vec![0x83; 100]]);
    short.truncate(50);
    let mut r = Reader::new(&short[..]).unwrap().with_max_item(1000);
    let e = r.next_item(&mut Vec::new()).unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::Truncated {
            expected: 100,
            found: 34
        }
    ));
}

proptest! {
    #[test]
    fn items_round_trip(items in proptest::collection::vec(
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            (MD5_THRESHOLD - 2..MD5_THRESHOLD + 2).prop_map(|n| vec![7u8; n]),
        ], 0..5)) {
        prop_assert_eq!(read_all(&write(&items)).unwrap(), items);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let mut input = vec![1, 2, 3, 4, 0x63, 0x58, 0x4d, 0x0b];
        input.extend(bytes);
        let _ = read_all(&input);
    }
}
